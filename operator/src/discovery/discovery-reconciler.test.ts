/** The reconciler over fixed listers, recording clients and scripted probes (no network). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Device, DeviceDiscovery, DeviceDiscoveryStatus } from '@switchforge/platform/crd';
import { listerOf } from '@switchforge/platform/kube';
import { recordingClients } from '../device-source/recording-clients.js';
import { DiscoveryReconciler, mapBounded, type Probes } from './discovery-reconciler.js';
import type { ProbeOutcome } from './probe-result.js';

const now = new Date('2026-12-03T12:00:00Z');
const discovery = (
  spec: Partial<DeviceDiscovery['spec']> = {},
  status?: DeviceDiscoveryStatus,
): DeviceDiscovery => ({
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'DeviceDiscovery',
  metadata: { name: 'lab', namespace: 'net', uid: 'uid-1', generation: 1 },
  spec: {
    targets: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
    probes: [{ protocol: 'gnmi', port: 9339 }],
    credentialsSecretRef: { name: 'login' },
    schedule: { every: '10m' },
    deviceTemplate: { tls: { insecure: true } },
    ...spec,
  },
  ...(status ? { status } : {}),
});

function harness(
  d: DeviceDiscovery,
  devices: Device[] = [],
  secrets: Record<string, Record<string, Buffer>> = {},
) {
  const { clients, applied, merged, statuses, events } = recordingClients<DeviceDiscoveryStatus>(secrets);
  let inFlight = 0;
  let maxInFlight = 0;
  const script: Record<string, ProbeOutcome['kind']> = {
    '127.0.0.1': 'answered',
    '127.0.0.2': 'refused',
    '127.0.0.3': 'unreachable',
  };
  const probes: Probes = {
    gnmi: async ({ address, port }) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const kind = script[address] ?? 'unreachable';
      return kind === 'answered'
        ? { kind, protocol: 'gnmi', port, facts: { models: ['m@1'] } }
        : {
            kind,
            protocol: 'gnmi',
            port,
            reason: kind === 'refused' ? 'AuthFailed' : 'Timeout',
            message: 'scripted',
          };
    },
    netconf: async () => assert.fail('no netconf probe configured'),
  };
  const reconciler = new DiscoveryReconciler(
    { discoveries: listerOf([d]), devices: listerOf(devices) },
    clients,
    probes,
    () => now,
  );
  return { reconciler, applied, merged, statuses, events, maxInFlight: () => maxInFlight };
}

const login = { login: { username: Buffer.from('u'), password: Buffer.from('p') } };

describe('a DeviceDiscovery run', () => {
  test('applies a Device per answer, writes the lists, records an Event and schedules the next run', async () => {
    const h = harness(discovery(), [], login);
    const result = await h.reconciler.reconcile('net/lab');
    assert.deepEqual(
      h.applied.map((d) => d.metadata.name),
      ['127-0-0-1'],
    );
    const s = h.statuses.at(-1)!;
    assert.deepEqual([s.foundCount, s.refusedCount, s.unreachableCount, s.missingCount], [1, 1, 1, 0]);
    assert.equal(h.events.at(-1)?.reason, 'DiscoveryRun');
    assert.equal(h.events.at(-1)?.type, 'Normal');
    assert.deepEqual(result, { requeueAfterMs: 600_000 });
  });

  test('keeps to the concurrency bound', async () => {
    const targets = Array.from({ length: 12 }, (_, i) => `127.0.1.${i + 1}`);
    const h = harness(discovery({ targets, concurrency: 3 }), [], login);
    await h.reconciler.reconcile('net/lab');
    assert.equal(h.maxInFlight(), 3);
  });

  test('leaves a same-named Device it does not own alone, and says so', async () => {
    const foreign = { metadata: { name: '127-0-0-1', namespace: 'net' } } as Device;
    const h = harness(discovery(), [foreign], login);
    await h.reconciler.reconcile('net/lab');
    assert.deepEqual(h.applied, []);
    assert.match(h.statuses.at(-1)!.found![0]!.conflict!, /not owned by this discovery/);
  });

  test('marks an owned Device it did not find, and does not delete it', async () => {
    const owned = {
      metadata: {
        name: '127-0-0-9',
        namespace: 'net',
        ownerReferences: [{ uid: 'uid-1', controller: true }],
      },
    } as Device;
    const h = harness(discovery(), [owned], login);
    await h.reconciler.reconcile('net/lab');
    assert.deepEqual(h.merged, [
      {
        apiVersion: 'switchforge.io/v1alpha1',
        kind: 'Device',
        metadata: {
          name: '127-0-0-9',
          namespace: 'net',
          annotations: { 'switchforge.io/discovery-missing-since': '2026-12-03T12:00:00Z' },
        },
      },
    ]);
    assert.equal(h.statuses.at(-1)!.missingCount, 1);
  });

  test('a missing credentials Secret is Ready False with a Warning, probes nothing and retries within a minute', async () => {
    const h = harness(discovery(), [], {});
    const result = await h.reconciler.reconcile('net/lab');
    assert.deepEqual(h.applied, []);
    const ready = h.statuses.at(-1)!.conditions!.find((c) => c.type === 'Ready')!;
    assert.deepEqual(
      [ready.status, ready.reason, ready.message],
      ['False', 'SecretNotFound', 'Secret net/login not found'],
    );
    assert.equal(h.events.at(-1)?.type, 'Warning');
    assert.deepEqual(result, { requeueAfterMs: 60_000 });
  });

  test('targets beyond the bound are refused as InvalidTargets', async () => {
    const targets = Array.from({ length: 5 }, (_, i) => `10.0.${i}.0/24`);
    const h = harness(discovery({ targets }), [], login);
    await h.reconciler.reconcile('net/lab');
    assert.equal(h.statuses.at(-1)!.conditions![0]!.reason, 'InvalidTargets');
  });

  test('a discovery not yet due only waits', async () => {
    const h = harness(
      discovery({}, { lastRunTime: '2026-12-03T11:58:00Z', observedGeneration: 1 }),
      [],
      login,
    );
    assert.deepEqual(await h.reconciler.reconcile('net/lab'), { requeueAfterMs: 8 * 60_000 });
    assert.deepEqual(h.statuses, []);
  });
});

test('mapBounded keeps the order of the results', async () => {
  assert.deepEqual(await mapBounded([3, 1, 2], 2, async (n) => n * 10), [30, 10, 20]);
});
