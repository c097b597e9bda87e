/**
 * Property: any Device or AudioJob manifest, valid or not field by field, is either rejected by
 * the real apiserver with a message naming a field, or admitted and then given a status with a
 * reason by the running operator within a bound (a Device's worker process never crashing on
 * the way). Never neither.
 *
 * Seeded and small for CI: SWITCHFORGE_PROPERTY_SEED and SWITCHFORGE_PROPERTY_RUNS override the
 * defaults; the seed is printed, and fast-check prints it again with a failing case.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { KubeConfig } from '@kubernetes/client-node';
import { startAudioJobControllers } from '@switchforge/operator/audiojob/index';
import { readAudioOperatorConfig } from '@switchforge/operator/audiojob/config';
import { namespaceTools } from '../harness/manifests.js';
import {
  installCrds,
  labSwitchSecrets,
  startDevicePlatform,
  startLabSwitch,
} from '../harness/platform-under-test.js';
import { freePort, useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import type { GnmiSimulator } from '@switchforge/simulators/gnmi/server';

const ns = `prop-${randomBytes(3).toString('hex')}`;
const seed = Number(process.env.SWITCHFORGE_PROPERTY_SEED ?? 1313);
const numRuns = Number(process.env.SWITCHFORGE_PROPERTY_RUNS ?? 24);
/** How long an admitted object may take to show a reason. */
const STATUS_BOUND_MS = 90_000;
/** The whole property's wall time: runs left when it passes are skipped, not failed. */
const WALL_TIME_MS = 8 * 60_000;

let infra: Infra;
let pki: TestPki;
let sim: GnmiSimulator;
let closedPort: number;
let platform: Awaited<ReturnType<typeof startDevicePlatform>>;
let stopAudio: (() => Promise<void>) | undefined;
let storageRoot: string;
const { kubectl } = namespaceTools(() => infra, ns);

const pick = <T>(...values: T[]) => fc.constantFrom(...values);
const COUNTERS = '/interfaces/interface[name=*]/state/counters';

/**
 * A manifest is a valid spec with, half the time, one field replaced by a value the schema must
 * refuse: every field varies across its valid values, and each invalid class gets its turn
 * without other mistakes hiding it.
 */
interface Case {
  kind: 'Device' | 'AudioJob';
  name: string;
  spec: Record<string, unknown>;
  /** What was broken on purpose, if anything. */
  broken?: string;
}

const stream = fc.record({
  name: pick('counters', 'cpu'),
  path: pick(COUNTERS, '/components/component[name=*]/cpu'),
  mode: pick('sample', 'on-change', 'target-defined'),
  sampleInterval: pick('1s', '250ms', '2.5s'),
  heartbeatInterval: pick('10s', '1m'),
});
/** The combinations the schema allows: sampleInterval with sample, heartbeat elsewhere. */
const gnmiSubscription = stream.map(({ name, path, mode, sampleInterval, heartbeatInterval }) =>
  mode === 'sample' ? { name, path, mode, sampleInterval } : { name, path, mode, heartbeatInterval },
);

const gnmiSpec = fc.record({
  address: pick('127.0.0.1'),
  port: pick('switch', 'closed'),
  protocol: pick('gnmi'),
  credentials: pick('login', 'nosuch', 'lab-ca').map((name) => ({ secretRef: { name } })),
  tls: pick<Record<string, unknown>>(
    { caSecretRef: { name: 'lab-ca' }, serverName: 'localhost' },
    { skipVerify: true },
    { insecure: true },
  ),
  encoding: pick('json_ietf', 'json', 'proto', 'ascii'),
  list: pick<Record<string, unknown>>({}, { subscriptionMode: 'once' }, { subscriptionMode: 'poll', pollInterval: '2s' }),
  subscriptions: fc.uniqueArray(gnmiSubscription, { minLength: 1, maxLength: 2, selector: (s) => s.name }),
  resources: pick<Record<string, unknown> | undefined>(undefined, { requests: { memory: '64Mi' } }),
  labels: pick<Record<string, string> | undefined>(undefined, { site: 'lab' }),
});

const validDevice = fc.oneof(
  gnmiSpec.map(({ list, subscriptions, ...rest }) => ({
    ...rest,
    ...list,
    // Poll and once read every path whole: no per-path mode there.
    subscriptions: list.subscriptionMode ? subscriptions.map(({ name, path }) => ({ name, path })) : subscriptions,
  })),
  fc.record({
    address: pick('127.0.0.1'),
    port: pick('switch', 'closed'),
    protocol: pick('netconf'),
    credentials: pick({ secretRef: { name: 'login' } }),
    ssh: pick({ hostKeyVerification: 'Disabled' }),
    subscriptions: pick([{ filter: { type: 'subtree', value: '<interfaces/>' }, interval: '5s' }]),
  }),
);

/** Each breaks one field; applied over a valid spec the apiserver must refuse it naming that field. */
const brokenDevice: [string, Record<string, unknown>][] = [
  ['address with scheme', { address: 'https://127.0.0.1' }],
  ['address with port', { address: '127.0.0.1:57400' }],
  ['port 0', { port: 0 }],
  ['port 70000', { port: 70_000 }],
  ['unknown protocol', { protocol: 'snmp' }],
  ['Secret name not DNS', { credentials: { secretRef: { name: 'Bad_Name' } } }],
  ['insecure with a CA', { protocol: 'gnmi', tls: { insecure: true, caSecretRef: { name: 'lab-ca' } } }],
  ['skipVerify with serverName', { protocol: 'gnmi', tls: { skipVerify: true, serverName: 'localhost' } }],
  ['serverName with scheme', { protocol: 'gnmi', tls: { serverName: 'https://x/' } }],
  ['unknown encoding', { encoding: 'xml' }],
  ['poll without interval', { protocol: 'gnmi', subscriptionMode: 'poll', pollInterval: undefined }],
  ['poll every 1.5us', { protocol: 'gnmi', subscriptionMode: 'poll', pollInterval: '1.5us' }],
  ['poll every 30 days', { protocol: 'gnmi', subscriptionMode: 'poll', pollInterval: '720h' }],
  ...['1ns', '1.5ns', '1000h', '0s', '-1s'].map((i): [string, Record<string, unknown>] => [
    `sampleInterval ${i}`,
    { protocol: 'gnmi', subscriptions: [{ path: COUNTERS, mode: 'sample', sampleInterval: i }] },
  ]),
  ['heartbeat 10ms', { protocol: 'gnmi', subscriptions: [{ path: COUNTERS, mode: 'on-change', heartbeatInterval: '10ms' }] }],
  ['suppressRedundant on-change', { protocol: 'gnmi', subscriptions: [{ path: COUNTERS, mode: 'on-change', suppressRedundant: true }] }],
  ['malformed path', { protocol: 'gnmi', subscriptions: [{ path: 'not a path' }] }],
  ['duplicate names', { protocol: 'gnmi', subscriptions: [{ name: 'a', path: COUNTERS }, { name: 'a', path: '/system' }] }],
  ['negative CPU', { resources: { requests: { cpu: '-1' } } }],
  ['unknown resource', { resources: { limits: { memroy: '1Gi' } } }],
  ['request above limit', { resources: { requests: { memory: '1Gi' }, limits: { memory: '256Mi' } } }],
  ['label name with dash', { labels: { 'bad-key': 'x' } }],
];

const validAudio = fc.record({
  source: pick<Record<string, string>>(
    { storagePath: 'uploads/a.flac' },
    { url: 'https://media.example.com/a.wav' },
    { spotifyTrackId: '4uLU6hMCjMI75M1A2tKUQC' },
  ),
  stages: pick<Record<string, unknown>>(
    { separate: {} },
    { analyze: { features: ['tempo', 'key'] } },
    { separate: { model: 'mdx', segment: 10 } },
    { separate: { stems: 'two-stem', twoStem: 'guitar', model: 'htdemucs_6s' } },
  ),
  priority: pick(0, 50, -100),
  timeouts: pick({ download: '90s' }, { separate: '1.5h' }),
});
const brokenAudio: [string, Record<string, unknown>][] = [
  ['ftp URL', { source: { url: 'ftp://media.example.com/a.wav' } }],
  ['path escaping the storage', { source: { storagePath: '../etc/passwd' } }],
  ['two sources', { source: { storagePath: 'a.flac', url: 'https://media.example.com/a.wav' } }],
  ['no stages', { stages: {} }],
  ['long segment on a transformer', { stages: { separate: { model: 'htdemucs', segment: 10 } } }],
  ['guitar without htdemucs_6s', { stages: { separate: { stems: 'two-stem', twoStem: 'guitar' } } }],
  ['priority 101', { priority: 101 }],
  ['timeout 1.5us', { timeouts: { download: '1.5us' } }],
  ['negative timeout', { timeouts: { separate: '-5m' } }],
];

const breakage = (list: [string, Record<string, unknown>][]) =>
  fc.option(fc.constantFrom(...list), { nil: undefined, freq: 2 });

const manifest: fc.Arbitrary<Case> = fc.oneof(
  fc
    .record({ spec: validDevice, broken: breakage(brokenDevice), longName: fc.boolean() })
    .map(({ spec, broken, longName }): Case => {
      // The name is broken only in cases where nothing else is.
      const badName = !broken && longName && spec.port === 'closed';
      const port = (p: unknown) => (p === 'switch' ? sim.port : p === 'closed' ? closedPort : p);
      const merged: Record<string, unknown> = { ...spec, ...broken?.[1] };
      return {
        kind: 'Device',
        name: badName ? `d-${'x'.repeat(68)}` : 'short',
        spec: { ...merged, port: port(merged.port) },
        ...(broken ? { broken: broken[0] } : badName ? { broken: 'name of 70 characters' } : {}),
      };
    }),
  fc
    .record({ spec: validAudio, broken: breakage(brokenAudio) })
    .map(({ spec, broken }): Case => ({
      kind: 'AudioJob',
      name: 'short',
      spec: { ...spec, ...broken?.[1] },
      ...(broken ? { broken: broken[0] } : {}),
    })),
);

/** A rejection that names the field: `<field>: <what>` or an unknown field by its path. */
const NAMES_A_FIELD = /is invalid: (?:\[|\n\* )?(?:spec|metadata)\.[\w.[\]-]*: |unknown field "spec\./;

before(async () => {
  infra = await useInfra({ kubernetes: true, postgres: true, temporal: true });
  await installCrds(infra);
  assert.equal((await kubectl('create', 'namespace', ns)).code, 0);
  pki = generateTestPki();
  sim = await startLabSwitch(pki);
  closedPort = await freePort();
  await namespaceTools(() => infra, ns).apply(...labSwitchSecrets(pki));
  platform = await startDevicePlatform(infra, ns);
  storageRoot = mkdtempSync(join(tmpdir(), 'switchforge-prop-'));
  const kc = new KubeConfig();
  kc.loadFromFile(infra.kubernetes.kubeconfig);
  // No audio worker pool: workflows wait on their task queue and jobs keep their first reason.
  stopAudio = await startAudioJobControllers(
    kc,
    readAudioOperatorConfig({
      TEMPORAL_ADDRESS: infra.temporal.address,
      TEMPORAL_NAMESPACE: infra.temporal.namespace,
      AUDIO_QUEUE_PREFIX: ns,
      AUDIO_STORAGE_ROOT: storageRoot,
      AUDIO_WATCH_NAMESPACE: ns,
      AUDIO_PROGRESS_POLL: '1s',
      AUDIO_POOL_ENABLED: 'false',
    }),
  );
});

after(async () => {
  await stopAudio?.();
  await platform?.stop();
  await sim?.stop();
  pki?.remove();
  if (storageRoot) rmSync(storageRoot, { recursive: true, force: true });
  await kubectl('delete', 'namespace', ns, '--wait=false');
  await infra?.stop();
});

describe('manifests across the schema', () => {
  test(`are rejected naming a field, or reach a status with a reason within ${STATUS_BOUND_MS / 1000} s (seed ${seed}, ${numRuns} runs)`, async () => {
    console.log(`property seed ${seed} (SWITCHFORGE_PROPERTY_SEED=${seed} repeats this run)`);
    let n = 0;
    const outcomes = { rejected: 0, admitted: 0 };
    await fc.assert(
      fc.asyncProperty(manifest, async ({ kind, name, spec, broken }) => {
        const objectName = name === 'short' ? `${kind.toLowerCase()}-${n++}` : name;
        const doc = {
          apiVersion: 'switchforge.io/v1alpha1',
          kind,
          metadata: { name: objectName, namespace: ns },
          spec,
        };
        const applied = await infra.kubernetes.kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(doc));
        if (applied.code !== 0) {
          outcomes.rejected++;
          assert.ok(broken, `a valid ${kind} was refused:\n${applied.stderr}`);
          assert.match(applied.stderr, NAMES_A_FIELD, `rejected without naming a field:\n${applied.stderr}`);
          return;
        }
        assert.equal(broken, undefined, `a ${kind} with ${broken} was admitted`);
        outcomes.admitted++;
        const resource = `${kind.toLowerCase()}/${objectName}`;
        try {
          const reason = await statusReason(kind, resource);
          assert.ok(reason, `${resource} showed no reason within the bound`);
          if (kind === 'Device') assertNoCrashedWorker(objectName);
        } finally {
          // An AudioJob's finalizer waits for its workflow to be cancelled, which no audio worker
          // runs here: it is left to go with the namespace.
          await kubectl('delete', resource, '-n', ns, `--wait=${kind === 'Device'}`, '--timeout=60s');
          await waitFor(
            `the worker of ${objectName} to stop`,
            async () => !platform.pods.runner.pods.some((p) => p.startsWith(`${ns}/${objectName}-`)),
            60_000,
            250,
          );
        }
      }),
      {
        seed,
        numRuns,
        endOnFailure: true,
        includeErrorInReport: true,
        interruptAfterTimeLimit: WALL_TIME_MS,
        markInterruptAsFailure: false,
      },
    );
    console.log(`property outcomes: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.rejected > 0 && outcomes.admitted > 0, 'the generators reach both outcomes');
  });
});

/**
 * A Device's Connected reason once it is past WorkerPending (connected, or failed with a cause);
 * an AudioJob's phase and the reason of its conditions. Undefined when the bound passes.
 */
async function statusReason(kind: 'Device' | 'AudioJob', resource: string): Promise<string | undefined> {
  const path =
    kind === 'Device'
      ? '{.status.conditions[?(@.type=="Connected")].reason}'
      : '{.status.phase}/{.status.conditions[0].reason}';
  let reason = '';
  await waitFor(
    `${resource} to show a reason`,
    async () => {
      const r = await kubectl('get', resource, '-n', ns, '-o', `jsonpath=${path}`);
      reason = r.stdout.trim();
      return kind === 'Device' ? reason !== '' && reason !== 'WorkerPending' : /^\w+\/\w+$/.test(reason);
    },
    STATUS_BOUND_MS,
    500,
  ).catch(() => (reason = ''));
  return reason || undefined;
}

function assertNoCrashedWorker(device: string): void {
  for (const [pod, restarts] of platform.pods.runner.restarts())
    if (pod.startsWith(`${ns}/${device}-`)) assert.equal(restarts, 0, `worker ${pod} exited ${restarts} time(s)`);
}
