/**
 * Holds the TypeScript types and the CRD schemas to the same field names. Each fixture below is
 * typed DeepRequired<...>, so the compiler makes it name every field of the type and nothing
 * else; the test then compares its field paths with the schema's, both ways.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { AudioJobSpec, AudioJobStatus } from './audiojob.js';
import type { DeviceSpec, DeviceStatus } from './device.js';
import type { DeviceDiscoverySpec, DeviceDiscoveryStatus, DeviceTemplate } from './devicediscovery.js';
import type {
  DeviceInventorySpec,
  DeviceInventoryStatus,
  InventoryDeviceTemplate,
} from './deviceinventory.js';
import type { DeviceProfileSpec, DeviceProfileStatus } from './deviceprofile.js';
import {
  AUDIO_JOB,
  DEVICE,
  DEVICE_DISCOVERY,
  DEVICE_INVENTORY,
  DEVICE_PROFILE,
  GROUP,
  VERSION,
} from './index.js';

type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends object
    ? { [K in keyof T]-?: DeepRequired<T[K]> }
    : T;

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-validations'?: unknown[];
  /** An object of any shape (Device status.effectiveSpec): a leaf, like a map. */
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface Crd {
  spec: {
    group: string;
    names: { kind: string; plural: string; singular: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
}

function loadCrd(file: string): { crd: Crd; schema: Schema } {
  const crd = parse(readFileSync(new URL(`../../../crds/${file}`, import.meta.url), 'utf8')) as Crd;
  const version = crd.spec.versions.find((v) => v.name === VERSION);
  assert.ok(version, `${file} serves ${VERSION}`);
  return { crd, schema: version.schema.openAPIV3Schema };
}

/** Field paths a schema declares; maps (additionalProperties) are leaves, array items are `[]`. */
function schemaPaths(schema: Schema, prefix: string, out: Set<string> = new Set()): Set<string> {
  if (schema.items) return schemaPaths(schema.items, `${prefix}[]`, out);
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}.${key}`;
    out.add(path);
    schemaPaths(child, path, out);
  }
  return out;
}

/** Field paths a value holds, descending only where the schema declares properties. */
function valuePaths(
  value: unknown,
  schema: Schema | undefined,
  prefix: string,
  out: Set<string> = new Set(),
): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) valuePaths(item, schema?.items, `${prefix}[]`, out);
  } else if (
    value !== null &&
    typeof value === 'object' &&
    !schema?.additionalProperties &&
    !schema?.['x-kubernetes-preserve-unknown-fields']
  ) {
    for (const [key, child] of Object.entries(value)) {
      const path = `${prefix}.${key}`;
      out.add(path);
      valuePaths(child, schema?.properties?.[key], path, out);
    }
  }
  return out;
}

function assertSameFields(value: unknown, schema: Schema | undefined, prefix: string): void {
  assert.ok(schema, `schema declares ${prefix}`);
  const declared = schemaPaths(schema, prefix);
  const typed = valuePaths(value, schema, prefix);
  assert.deepEqual(
    [...typed].filter((p) => !declared.has(p)),
    [],
    'fields in the TypeScript type that the schema lacks',
  );
  assert.deepEqual(
    [...declared].filter((p) => !typed.has(p)),
    [],
    'fields in the schema that the TypeScript type lacks',
  );
}

const condition = {
  type: 'Ready',
  status: 'True',
  reason: 'Connected',
  message: '',
  lastTransitionTime: '2025-01-01T00:00:00Z',
  observedGeneration: 1,
} as const;

const ref = { name: 'x' };
const duration = '10s';

const deviceSpec: DeepRequired<DeviceSpec> = {
  address: 'leaf1',
  port: 57400,
  protocol: 'gnmi',
  credentials: { secretRef: ref },
  profileRef: ref,
  tls: {
    insecure: false,
    skipVerify: false,
    caSecretRef: ref,
    clientCertSecretRef: ref,
    serverName: 'leaf1',
  },
  ssh: { hostKeySecretRef: ref, hostKeyVerification: 'Strict' },
  encoding: 'json_ietf',
  subscriptionMode: 'poll',
  pollInterval: duration,
  subscriptions: [
    {
      name: 'a',
      origin: 'openconfig',
      path: '/system',
      mode: 'sample',
      sampleInterval: duration,
      suppressRedundant: true,
      heartbeatInterval: duration,
      filter: { type: 'xpath', value: '/system' },
      interval: duration,
    },
  ],
  labels: { site: 'ams1' },
  resources: { limits: { cpu: '1' }, requests: { memory: '64Mi' } },
  backup: { enabled: true, schedule: '@daily' },
  outputs: {
    metricPrefix: 'gnmi',
    stringsAsLabels: true,
    maxSeries: 1000,
    prometheus: { enabled: true, port: 9804 },
    otlp: {
      enabled: true,
      endpoint: 'https://collector:4318',
      intervalSeconds: 15,
      tls: { caSecretRef: { name: 'collector-ca' } },
    },
  },
};

const deviceStatus: DeepRequired<DeviceStatus> = {
  observedGeneration: 1,
  phase: 'Connected',
  conditions: [condition],
  workerPod: 'leaf1-worker-0',
  lastSampleTime: '2025-01-01T00:00:00Z',
  updatesPerSecond: 12.5,
  lastBackup: { time: '2025-01-01T00:00:00Z', hash: 'ab' },
  profile: { name: 'x', generation: 1 },
  // A leaf: the schema keeps any shape (it is the Device spec, merged).
  effectiveSpec: { address: 'leaf1', protocol: 'gnmi', credentials: { secretRef: ref } } as DeepRequired<
    NonNullable<DeviceStatus['effectiveSpec']>
  >,
};

const { address: _address, profileRef: _profileRef, ...profileSpec } = deviceSpec;
const deviceProfileSpec: DeepRequired<DeviceProfileSpec> = { ...profileSpec, rollout: { maxConcurrent: 5 } };
const deviceProfileStatus: DeepRequired<DeviceProfileStatus> = {
  observedGeneration: 1,
  devices: 2,
  updatedDevices: 1,
  conditions: [condition],
};

const audioJobSpec: DeepRequired<AudioJobSpec> = {
  source: { url: 'https://a/b.wav', spotifyTrackId: '4uLU6hMCjMI75M1A2tKUQC', storagePath: 'a.wav' },
  stages: {
    separate: {
      model: 'htdemucs',
      stems: 'two-stem',
      twoStem: 'vocals',
      shifts: 1,
      overlap: 0.25,
      segment: 7,
      device: 'auto',
    },
    analyze: { features: ['tempo'] },
  },
  output: { prefix: 'jobs/a' },
  priority: 0,
  timeouts: { download: duration, separate: duration, analyze: duration },
  cancel: false,
};

const audioJobStatus: DeepRequired<AudioJobStatus> = {
  observedGeneration: 1,
  phase: 'Succeeded',
  stage: 'analyze',
  progress: 100,
  workflowId: 'audiojob-ns-a',
  startTime: '2025-01-01T00:00:00Z',
  completionTime: '2025-01-01T00:01:00Z',
  results: {
    bpm: 120,
    key: 'A minor',
    loudness: -14,
    durationSeconds: 180,
    stems: [
      {
        name: 'vocals',
        path: 'x',
        format: 'wav',
        contentType: 'audio/wav',
        bytes: 1,
        durationSeconds: 1,
        sha256: '0'.repeat(64),
      },
    ],
  },
  conditions: [condition],
};

const failedTarget = { address: '127.0.0.1', reason: 'Timeout', message: '' };
const discoverySpec: DeepRequired<DeviceDiscoverySpec> = {
  targets: ['127.0.0.1'],
  probes: [{ protocol: 'gnmi', port: 1 }],
  credentialsSecretRef: ref,
  schedule: { every: '10m' },
  concurrency: 1,
  timeout: duration,
  deviceTemplate: {
    profileRef: ref,
    tls: deviceSpec.tls,
    ssh: deviceSpec.ssh,
    encoding: 'json',
    subscriptionMode: 'poll',
    pollInterval: duration,
    subscriptions: deviceSpec.subscriptions,
    labels: {},
    resources: deviceSpec.resources,
    backup: deviceSpec.backup,
  } satisfies DeepRequired<DeviceTemplate>,
};
const discoveryStatus: DeepRequired<DeviceDiscoveryStatus> = {
  observedGeneration: 1,
  conditions: [condition],
  lastRunTime: '2025-01-01T00:00:00Z',
  found: [{ address: '127.0.0.1', protocol: 'gnmi', port: 1, device: 'x', conflict: '' }],
  unreachable: [failedTarget],
  refused: [failedTarget],
  foundCount: 1,
  unreachableCount: 1,
  refusedCount: 1,
  missingCount: 0,
};

const { address: _a, ...inventoryTemplate } = deviceSpec;
const inventorySpec: DeepRequired<DeviceInventorySpec> = {
  source: {
    url: 'https://netbox.example.net/api/dcim/devices/',
    tokenSecretRef: ref,
    tls: { caSecretRef: ref, insecureSkipVerify: false },
    maxPages: 1,
    maxEntries: 1,
  },
  schedule: { every: '10m' },
  timeout: duration,
  mapping: { name: ['name'], address: ['a'], status: ['s'], tags: ['tags'], labels: { site: ['site.slug'] } },
  filter: { statuses: ['active'], tags: ['core'] },
  deviceTemplate: inventoryTemplate satisfies DeepRequired<InventoryDeviceTemplate>,
};
const inventoryStatus: DeepRequired<DeviceInventoryStatus> = {
  observedGeneration: 1,
  conditions: [condition],
  lastSyncTime: '2025-01-01T00:00:00Z',
  found: [{ entry: 'leaf1', address: '192.0.2.1', device: 'leaf1' }],
  failed: [{ entry: '#1', reason: 'NoAddress', message: '' }],
  foundCount: 1,
  failedCount: 1,
  filteredCount: 0,
  goneCount: 0,
  pages: 1,
};

describe('the TypeScript types and the CRD schemas', () => {
  const device = loadCrd('device.yaml');
  const audioJob = loadCrd('audiojob.yaml');
  const discovery = loadCrd('devicediscovery.yaml');
  const profile = loadCrd('deviceprofile.yaml');
  const inventory = loadCrd('deviceinventory.yaml');

  it('agree on the group, kinds and plural names', () => {
    for (const [{ crd }, names] of [
      [device, DEVICE],
      [audioJob, AUDIO_JOB],
      [discovery, DEVICE_DISCOVERY],
      [profile, DEVICE_PROFILE],
      [inventory, DEVICE_INVENTORY],
    ] as const) {
      assert.equal(crd.spec.group, GROUP);
      assert.equal(crd.spec.names.kind, names.kind);
      assert.equal(crd.spec.names.plural, names.plural);
      assert.equal(crd.spec.names.singular, names.singular);
    }
  });

  it('name the same Device spec and status fields', () => {
    assertSameFields(deviceSpec, device.schema.properties?.spec, 'spec');
    assertSameFields(deviceStatus, device.schema.properties?.status, 'status');
  });

  it('name the same AudioJob spec and status fields', () => {
    assertSameFields(audioJobSpec, audioJob.schema.properties?.spec, 'spec');
    assertSameFields(audioJobStatus, audioJob.schema.properties?.status, 'status');
  });

  it('name the same DeviceDiscovery spec and status fields', () => {
    assertSameFields(discoverySpec, discovery.schema.properties?.spec, 'spec');
    assertSameFields(discoveryStatus, discovery.schema.properties?.status, 'status');
  });

  it('name the same DeviceInventory spec and status fields', () => {
    assertSameFields(inventorySpec, inventory.schema.properties?.spec, 'spec');
    assertSameFields(inventoryStatus, inventory.schema.properties?.status, 'status');
  });

  it("declare the DeviceInventory's template with the Device spec's own schema and rules, all but address", () => {
    const template = inventory.schema.properties?.spec?.properties?.deviceTemplate;
    const spec = device.schema.properties?.spec;
    const { address: _address, ...fields } = spec?.properties ?? {};
    assert.deepEqual(Object.keys(template?.properties ?? {}).sort(), Object.keys(fields).sort());
    for (const [field, schema] of Object.entries(template?.properties ?? {})) {
      assert.deepEqual(
        schema,
        fields[field],
        `deviceTemplate.${field} differs from the Device's spec.${field}`,
      );
    }
    assert.deepEqual(
      template?.['x-kubernetes-validations'],
      spec?.['x-kubernetes-validations'],
      "deviceTemplate's rules differ from the Device spec's",
    );
  });

  it('name the same DeviceProfile spec and status fields', () => {
    assertSameFields(deviceProfileSpec, profile.schema.properties?.spec, 'spec');
    assertSameFields(deviceProfileStatus, profile.schema.properties?.status, 'status');
  });

  it("declare the DeviceProfile's spec with the Device spec's own schema, field by field, all but address", () => {
    // `rollout` is the profile's own: how its edits reach the Devices, never merged into them.
    const { rollout: _rollout, ...fields } = profile.schema.properties?.spec?.properties ?? {};
    const spec = device.schema.properties?.spec?.properties ?? {};
    assert.deepEqual(
      Object.keys(fields).sort(),
      Object.keys(spec)
        .filter((f) => f !== 'address' && f !== 'profileRef')
        .sort(),
    );
    for (const [field, schema] of Object.entries(fields)) {
      assert.deepEqual(
        schema,
        spec[field],
        `DeviceProfile spec.${field} differs from the Device's spec.${field}`,
      );
    }
  });

  it("declare the DeviceDiscovery's template with the Device spec's own schema, field by field", () => {
    const template = discovery.schema.properties?.spec?.properties?.deviceTemplate?.properties ?? {};
    const spec = device.schema.properties?.spec?.properties ?? {};
    assert.ok(Object.keys(template).length > 0);
    for (const [field, schema] of Object.entries(template)) {
      assert.deepEqual(
        schema,
        spec[field],
        `deviceTemplate.${field} differs from the Device's spec.${field}`,
      );
    }
  });
});
