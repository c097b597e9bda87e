/**
 * Presence across two API replicas sharing one real PostgreSQL: both see every watcher, a user
 * on several subscriptions is one watcher since the first, a replica that dies without cleaning
 * up drops out within its lease, and the changes stream says who joined and who left.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate } from '@switchforge/platform/db';
import { useInfra, type Infra } from '@switchforge/testkit';
import { PresenceStore, type WatcherSet } from './presence-store.js';

const schema = `presence_${process.pid}`;
let infra: Infra;
const sources: DataSource[] = [];

async function replica(name: string): Promise<{ store: PresenceStore; db: DataSource }> {
  const db = await createDataSource({ url: infra.postgres.dsn, schema, poolSize: 2 }).initialize();
  sources.push(db);
  const store = new PresenceStore(db, { replicaId: name, heartbeatMs: 200, leaseMs: 600, pollMs: 100 });
  await store.start();
  return { store, db };
}

before(async () => {
  infra = await useInfra({ postgres: true });
  await migrate({ url: infra.postgres.dsn, schema });
});

after(async () => {
  await Promise.all(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
  await infra?.stop();
});

const users = (ws: { user: string }[]) => ws.map((w) => w.user);

describe('presence across API replicas', () => {
  test('both replicas see every watcher; one user on two subscriptions is one watcher, since the first', async () => {
    const a = await replica('api-a');
    const b = await replica('api-b');
    const leaveAlice1 = await a.store.join('Device', 'lab', 'leaf1', 'alice');
    await new Promise((r) => setTimeout(r, 20));
    const leaveAlice2 = await b.store.join('Device', 'lab', 'leaf1', 'alice');
    const leaveBob = await b.store.join('Device', 'lab', 'leaf1', 'bob');
    await b.store.join('AudioJob', 'lab', 'leaf1', 'carol');

    for (const r of [a, b]) {
      const seen = await r.store.watchers('Device', 'lab', 'leaf1');
      assert.deepEqual(users(seen), ['alice', 'bob'], `${r.store.replicaId} sees both`);
    }
    const alice = (await a.store.watchers('Device', 'lab', 'leaf1')).find((w) => w.user === 'alice')!;
    await leaveAlice1();
    const still = (await a.store.watchers('Device', 'lab', 'leaf1')).find((w) => w.user === 'alice');
    assert.ok(still, 'alice still watches through api-b');
    assert.ok(still.since >= alice.since);
    await leaveAlice2();
    await leaveBob();
    assert.deepEqual(users(await a.store.watchers('Device', 'lab', 'leaf1')), []);
    assert.deepEqual(users(await a.store.watchers('AudioJob', 'lab', 'leaf1')), ['carol'], 'kinds apart');
    await Promise.all([a.store.stop(), b.store.stop()]);
    assert.deepEqual(
      users(await a.store.watchers('AudioJob', 'lab', 'leaf1')),
      [],
      'a stopped replica leaves',
    );
  });

  test('a replica that dies without cleaning up drops out within its lease, and the change stream says so', async () => {
    const a = await replica('api-c');
    const b = await replica('api-d');
    await a.store.join('Device', 'lab', 'spine1', 'alice');
    await b.store.join('Device', 'lab', 'spine1', 'bob');
    const stop = new AbortController();
    const seen: WatcherSet[] = [];
    const reading = (async () => {
      for await (const change of a.store.changes('Device', 'lab', 'spine1', stop.signal)) seen.push(change);
    })();
    await waitUntil(() => seen.length >= 1);
    assert.deepEqual(users(seen[0]!.watchers), ['alice', 'bob']);

    // api-d dies: its connections go, its heartbeats stop, nothing deletes its rows.
    const died = Date.now();
    await b.db.destroy();
    await waitUntil(() => seen.length >= 2, 5_000);
    const gone = (Date.now() - died) / 1000;
    assert.deepEqual(users(seen[1]!.watchers), ['alice']);
    assert.deepEqual(users(seen[1]!.left), ['bob']);
    assert.deepEqual(seen[1]!.joined, []);
    assert.ok(gone < 2, `cleared ${gone.toFixed(2)} s after the replica died (lease 0.6 s)`);

    await a.store.join('Device', 'lab', 'spine1', 'dave');
    await waitUntil(() => seen.length >= 3);
    assert.deepEqual(users(seen[2]!.joined), ['dave']);
    stop.abort();
    await reading;
    await a.store.stop();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
