/** The inventory reconciler over fixed listers, recording clients and a scripted reader (no network). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import type { Device, DeviceInventory, DeviceInventoryStatus } from '@switchforge/platform/crd';
import { listerOf } from '@switchforge/platform/kube';
import { InventoryFetchError, type FetchOptions, type FetchedInventory } from './inventory-fetch.js';
import { recordingClients } from '../device-source/recording-clients.js';
import { InventoryReconciler } from './inventory-reconciler.js';
import { nextSyncInMs } from './inventory-status.js';

const now = new Date('2026-12-04T12:00:00Z');

function inventory(status?: DeviceInventoryStatus, generation = 1): DeviceInventory {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'DeviceInventory',
    metadata: { name: 'netbox', namespace: 'net', uid: 'uid-inv', generation },
    spec: {
      source: {
        url: 'https://netbox.example.net/api/dcim/devices/',
        tokenSecretRef: { name: 'netbox-token' },
      },
      schedule: { every: '10m' },
      deviceTemplate: { profileRef: { name: 'leaf' } },
    },
    ...(status ? { status } : {}),
  };
}

const entry = (name: string, address: string | null) => ({
  name,
  status: { value: 'active' },
  primary_ip4: address === null ? null : { address: `${address}/24` },
});

const owned = (name: string, annotations?: Record<string, string>): Device => ({
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: {
    name,
    namespace: 'net',
    ...(annotations ? { annotations } : {}),
    ownerReferences: [
      {
        apiVersion: 'switchforge.io/v1alpha1',
        kind: 'DeviceInventory',
        name: 'netbox',
        uid: 'uid-inv',
        controller: true,
      },
    ],
  },
  spec: { address: '192.0.2.200', profileRef: { name: 'leaf' } },
});

function harness(
  inv: DeviceInventory,
  read: (o: FetchOptions) => Promise<FetchedInventory>,
  devices: Device[] = [],
  rejects: Set<string> = new Set(),
) {
  const { clients, applied, merged, statuses, events } = recordingClients<DeviceInventoryStatus>(
    { 'netbox-token': { token: Buffer.from('s3cr3t-token\n') } },
    (d) =>
      rejects.has(d.metadata.name!)
        ? new ApiException(
            422,
            'Unprocessable',
            JSON.stringify({ message: `Device "${d.metadata.name}" is invalid` }),
            {},
          )
        : undefined,
  );
  const reconciler = new InventoryReconciler(
    { inventories: listerOf([inv]), devices: listerOf(devices) },
    clients,
    read,
    () => now,
  );
  return { reconciler, applied, merged, statuses, events };
}

const pages =
  (...entries: unknown[]) =>
  async () => ({ entries, pages: 1 });

describe('a DeviceInventory sync', () => {
  test('reads with the token from its Secret, applies a Device per entry, lists the failed ones and schedules the next sync', async () => {
    let seen: FetchOptions | undefined;
    const h = harness(inventory(), async (o) => {
      seen = o;
      return {
        entries: [entry('leaf1', '192.0.2.1'), entry('leaf2', null), entry('leaf3', '192.0.2.3')],
        pages: 2,
      };
    });
    const result = await h.reconciler.reconcile('net/netbox');
    assert.equal(seen?.token, 's3cr3t-token');
    assert.deepEqual([seen?.timeoutMs, seen?.maxPages, seen?.maxEntries], [10_000, 50, 1000]);
    assert.deepEqual(
      h.applied.map((d) => [d.metadata.name, d.spec.address, d.spec.profileRef?.name]),
      [
        ['leaf1', '192.0.2.1', 'leaf'],
        ['leaf3', '192.0.2.3', 'leaf'],
      ],
    );
    const s = h.statuses.at(-1)!;
    assert.deepEqual([s.foundCount, s.failedCount, s.filteredCount, s.goneCount, s.pages], [2, 1, 0, 0, 2]);
    assert.deepEqual(
      s.failed?.map((f) => [f.entry, f.reason]),
      [['leaf2', 'NoAddress']],
    );
    assert.deepEqual(
      s.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'True', 'Synced'],
        ['SyncFailed', 'False', 'Synced'],
      ],
    );
    assert.equal(s.lastSyncTime, '2026-12-04T12:00:00Z');
    assert.equal(h.events.at(-1)?.reason, 'Synced');
    assert.match(h.events.at(-1)?.message ?? '', /found 2, failed 1, filtered 0, gone 0 \(2 pages\)/);
    assert.deepEqual(result, { requeueAfterMs: 600_000 });
  });

  test('marks an owned Device no longer listed as gone, keeps its first time, and unmarks one listed again', async () => {
    const devices = [
      owned('leaf1', { 'switchforge.io/inventory-gone-since': '2026-12-01T00:00:00Z' }),
      owned('old1'),
      owned('old2', { 'switchforge.io/inventory-gone-since': '2026-12-02T00:00:00Z' }),
    ];
    const h = harness(inventory(), pages(entry('leaf1', '192.0.2.1')), devices);
    await h.reconciler.reconcile('net/netbox');
    assert.deepEqual(
      h.merged.map((d) => [d.metadata.name, d.metadata.annotations?.['switchforge.io/inventory-gone-since']]),
      [
        ['leaf1', null],
        ['old1', '2026-12-04T12:00:00Z'],
      ],
    );
    assert.equal(h.statuses.at(-1)?.goneCount, 2);
  });

  test('leaves a Device of the same name it does not own alone, as a NameTaken entry', async () => {
    const mine = owned('leaf1');
    const theirs: Device = { ...mine, metadata: { name: 'leaf1', namespace: 'net', ownerReferences: [] } };
    const h = harness(inventory(), pages(entry('leaf1', '192.0.2.1')), [theirs]);
    await h.reconciler.reconcile('net/netbox');
    assert.deepEqual(h.applied, []);
    assert.deepEqual(
      h.statuses.at(-1)?.failed?.map((f) => [f.entry, f.reason]),
      [['leaf1', 'NameTaken']],
    );
    assert.deepEqual(h.merged, [], 'a Device it does not own is never marked');
  });

  test('lists a Device the apiserver rejects as DeviceRejected with its words, and does not mark it gone', async () => {
    const h = harness(inventory(), pages(entry('leaf1', '192.0.2.1')), [owned('leaf1')], new Set(['leaf1']));
    await h.reconciler.reconcile('net/netbox');
    const s = h.statuses.at(-1)!;
    assert.deepEqual(
      s.failed?.map((f) => [f.entry, f.reason, f.message]),
      [['leaf1', 'DeviceRejected', 'Device "leaf1" is invalid']],
    );
    assert.equal(s.goneCount, 0);
  });

  const failures: [string, () => Promise<FetchedInventory>, string][] = [
    [
      'a refused token',
      async () => Promise.reject(new InventoryFetchError('GET x: token refused (HTTP 401)', 'TokenRefused')),
      'TokenRefused',
    ],
    [
      'a timeout',
      async () => Promise.reject(new InventoryFetchError('GET x: no complete answer in 10000 ms', 'Timeout')),
      'Timeout',
    ],
    [
      'invalid JSON',
      async () => Promise.reject(new InventoryFetchError('GET x: the body is not JSON', 'InvalidJSON')),
      'InvalidJSON',
    ],
  ];
  for (const [name, read, reason] of failures) {
    test(`${name} fails the sync (Ready False, SyncFailed True, ${reason}), keeps the last lists and marks nothing gone`, async () => {
      const last: DeviceInventoryStatus = {
        observedGeneration: 1,
        lastSyncTime: '2026-12-04T11:00:00Z',
        found: [{ entry: 'leaf1', address: '192.0.2.1', device: 'leaf1' }],
        foundCount: 1,
      };
      const h = harness(inventory(last, 2), read, [owned('leaf1')]);
      const result = await h.reconciler.reconcile('net/netbox');
      const s = h.statuses.at(-1)!;
      assert.deepEqual(
        s.conditions?.map((c) => [c.type, c.status, c.reason]),
        [
          ['Ready', 'False', reason],
          ['SyncFailed', 'True', reason],
        ],
      );
      assert.equal(s.foundCount, 1);
      assert.deepEqual([h.applied, h.merged], [[], []]);
      assert.equal(h.events.at(-1)?.type, 'Warning');
      assert.deepEqual(result, { requeueAfterMs: 60_000 });
    });
  }

  test('a missing token Secret fails the sync with SecretNotFound, and the reader is never called', async () => {
    const inv = inventory();
    inv.spec.source.tokenSecretRef = { name: 'absent' };
    const h = harness(inv, async () => assert.fail('read without its token'));
    await h.reconciler.reconcile('net/netbox');
    const ready = h.statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'SecretNotFound']);
    assert.match(ready?.message ?? '', /Secret net\/absent not found/);
  });

  test('a sync not yet due waits for its schedule; a spec change syncs at once', async () => {
    const synced: DeviceInventoryStatus = { observedGeneration: 1, lastSyncTime: '2026-12-04T11:55:00Z' };
    assert.equal(nextSyncInMs(inventory(synced), now), 5 * 60_000);
    assert.equal(nextSyncInMs(inventory(synced, 2), now), 0);
    const h = harness(inventory(synced), async () => assert.fail('read before it was due'));
    assert.deepEqual(await h.reconciler.reconcile('net/netbox'), { requeueAfterMs: 5 * 60_000 });
  });
});
