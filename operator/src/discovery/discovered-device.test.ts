import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Device, DeviceDiscovery } from '@switchforge/platform/crd';
import { desiredDevice, missingMarks, nameForTarget, ownedBy } from './discovered-device.js';

const discovery: DeviceDiscovery = {
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'DeviceDiscovery',
  metadata: { name: 'lab', namespace: 'net', uid: 'uid-1', generation: 2 },
  spec: {
    targets: ['127.0.0.0/30'],
    probes: [{ protocol: 'gnmi' }, { protocol: 'netconf' }],
    credentialsSecretRef: { name: 'login' },
    schedule: { every: '10m' },
    deviceTemplate: {
      tls: { caSecretRef: { name: 'ca' } },
      ssh: { hostKeySecretRef: { name: 'known' } },
      encoding: 'proto',
      labels: { site: 'lab' },
      subscriptions: [
        {
          name: 'counters',
          path: '/interfaces/interface/state/counters',
          mode: 'sample',
          sampleInterval: '10s',
        },
        { name: 'ifs', filter: { type: 'subtree', value: '<interfaces/>' }, interval: '60s' },
      ],
    },
  },
};

describe('the Device a found target becomes', () => {
  test('a gNMI target: named from its address, the template’s tls and path subscriptions, owned by the discovery', () => {
    const d = desiredDevice(discovery, '127.0.0.2', {
      kind: 'answered',
      protocol: 'gnmi',
      port: 57400,
      facts: { models: ['m@1'], gnmiVersion: '0.10.0' },
    });
    assert.equal(d.metadata.name, '127-0-0-2');
    assert.equal(d.metadata.namespace, 'net');
    assert.deepEqual(d.spec.tls, { caSecretRef: { name: 'ca' } });
    assert.equal(d.spec.ssh, undefined);
    assert.equal(d.spec.encoding, 'proto');
    assert.deepEqual(
      d.spec.subscriptions?.map((s) => s.name),
      ['counters'],
    );
    assert.deepEqual(d.spec.credentials, { secretRef: { name: 'login' } });
    assert.deepEqual(d.spec.labels, { site: 'lab' });
    assert.equal(d.metadata.labels?.['switchforge.io/discovery'], 'lab');
    assert.equal(d.metadata.labels?.['discovery.switchforge.io/gnmi-version'], '0.10.0');
    assert.deepEqual(d.metadata.ownerReferences, [
      {
        apiVersion: 'switchforge.io/v1alpha1',
        kind: 'DeviceDiscovery',
        name: 'lab',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.ok(ownedBy(d, discovery));
  });

  test('a NETCONF target: ssh and filter subscriptions only, no gNMI fields', () => {
    const d = desiredDevice(discovery, 'leaf1.lab.example', {
      kind: 'answered',
      protocol: 'netconf',
      port: 830,
      facts: { models: ['urn:ietf:params:netconf:base:1.1'], netconfBase: ['1.1'] },
    });
    assert.equal(d.metadata.name, 'leaf1-lab-example');
    assert.equal(d.spec.protocol, 'netconf');
    assert.deepEqual(d.spec.ssh, { hostKeySecretRef: { name: 'known' } });
    assert.equal(d.spec.tls, undefined);
    assert.equal(d.spec.encoding, undefined);
    assert.deepEqual(
      d.spec.subscriptions?.map((s) => s.name),
      ['ifs'],
    );
  });

  test("the template's profileRef goes to every created Device, beside the discovery's own login and the protocol that answered", () => {
    const withProfile = {
      ...discovery,
      spec: { ...discovery.spec, deviceTemplate: { profileRef: { name: 'lab-leaf' } } },
    };
    const d = desiredDevice(withProfile, '127.0.0.2', {
      kind: 'answered',
      protocol: 'gnmi',
      port: 57400,
      facts: { models: [] },
    });
    assert.deepEqual(d.spec.profileRef, { name: 'lab-leaf' });
    assert.deepEqual(d.spec.credentials, { secretRef: { name: 'login' } });
    assert.equal(d.spec.protocol, 'gnmi');
    assert.equal(
      desiredDevice(discovery, '127.0.0.2', {
        kind: 'answered',
        protocol: 'gnmi',
        port: 1,
        facts: { models: [] },
      }).spec.profileRef,
      undefined,
    );
  });

  test('IPv6 addresses become valid names', () => {
    assert.equal(nameForTarget('fd00::1'), 'fd00-1');
  });

  test('another controller’s Device is not owned', () => {
    const other = { metadata: { ownerReferences: [{ uid: 'uid-2', controller: true }] } } as Device;
    assert.equal(ownedBy(other, discovery), false);
  });
});

describe('marking Devices a discovery no longer finds', () => {
  const device = (name: string, since?: string) =>
    ({
      metadata: {
        name,
        ...(since ? { annotations: { 'switchforge.io/discovery-missing-since': since } } : {}),
      },
    }) as Device;
  const now = new Date('2026-12-03T12:00:00.500Z');

  test('a missing Device is marked once, keeping when it first went missing; a found one is unmarked', () => {
    const { marks, missing } = missingMarks(
      [device('a'), device('b', '2026-12-01T00:00:00Z'), device('c', '2026-12-02T00:00:00Z'), device('d')],
      new Set(['c', 'd']),
      now,
    );
    assert.equal(missing, 2);
    assert.deepEqual(marks, [
      { name: 'a', since: '2026-12-03T12:00:00Z' },
      { name: 'c', since: null },
    ]);
  });
});
