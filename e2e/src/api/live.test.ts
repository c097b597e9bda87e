import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiServer } from '@switchforge/api/server';
import { collect, startApiFixture, wsClient, type ApiFixture } from './fixture.js';

let fx: ApiFixture;

before(async () => {
  fx = await startApiFixture('live');
});
after(() => fx.stop());

interface Update {
  deviceUpdates: {
    sequence: string;
    dropped: number;
    gap: { reason: string } | null;
    values: { path: string; value: number | null; labels: Record<string, string> }[];
  };
}

const SUB = `subscription($ns: String!, $since: Sequence, $prefix: String) {
  deviceUpdates(namespace: $ns, name: "leaf1", sinceSequence: $since, pathPrefix: $prefix) {
    sequence dropped gap { reason } values { path value labels }
  }
}`;

test('a subscription receives the batches a worker commits, in order, with their sequences', async () => {
  const api = await fx.startApi();
  const client = wsClient(api.url, fx.tokens.a);
  const sub = collect<Update>(client, SUB, { ns: fx.namespaces.a }, 5);
  // The API opens the upstream only now that someone subscribed; give it a moment to connect.
  await waitForUpstream(api);
  const seqs = fx.publish('leaf1', [1, 2, 3, 4, 5]);
  const messages = await sub.done;
  await client.dispose();
  await api.close();
  assert.deepEqual(
    messages.map((m) => m.data?.deviceUpdates.sequence),
    seqs.map(String),
    JSON.stringify(messages),
  );
  assert.deepEqual(
    messages.map((m) => m.data?.deviceUpdates.values[0]?.value),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(messages[0]?.data?.deviceUpdates.values[0]?.labels, { name: 'Ethernet1' });
});

test('pathPrefix leaves out batches with no value under the prefix', async () => {
  const api = await fx.startApi();
  const client = wsClient(api.url, fx.tokens.a);
  const sub = collect<Update>(client, SUB, { ns: fx.namespaces.a, prefix: '/system' }, 1, 5_000);
  await waitForUpstream(api);
  fx.publish('leaf1', [10]);
  fx.publish('leaf1', [11], '/system/state/uptime');
  const messages = await sub.done;
  await client.dispose();
  await api.close();
  assert.deepEqual(
    messages.map((m) => m.data?.deviceUpdates.values.map((v) => v.path)),
    [['/system/state/uptime']],
  );
});

test('after the API restarts, a client resuming from its last sequence gets every batch, with no gap', async () => {
  const first = await fx.startApi();
  const port = first.port;
  const client = wsClient(first.url, fx.tokens.a);
  const closed = new Promise<number>((resolve) =>
    client.on('closed', (e) => resolve((e as { code: number }).code)),
  );
  const sub = collect<Update>(client, SUB, { ns: fx.namespaces.a }, 3);
  await waitForUpstream(first);
  const before = fx.publish('leaf1', [100, 101, 102]);
  const received = await sub.done;
  const last = received.at(-1)?.data?.deviceUpdates.sequence;
  assert.equal(last, String(before.at(-1)));

  // The replica goes away (SIGTERM path): sockets close with 1001 Going Away.
  const closing = first.close(1001);
  // The worker keeps committing while no API is up.
  const missed = fx.publish('leaf1', [103, 104, 105]);
  await closing;
  assert.equal(await closed, 1001);
  await client.dispose();

  const second = await fx.startApi({ port });
  const again = wsClient(second.url, fx.tokens.a);
  const resumed = collect<Update>(again, SUB, { ns: fx.namespaces.a, since: last }, 5);
  await waitForUpstream(second);
  const later = fx.publish('leaf1', [106, 107]);
  const messages = await resumed.done;
  await again.dispose();
  await second.close();
  assert.deepEqual(
    messages.map((m) => m.data?.deviceUpdates.sequence),
    [...missed, ...later].map(String),
    JSON.stringify(messages),
  );
  assert.ok(messages.every((m) => m.data?.deviceUpdates.gap === null && m.data.deviceUpdates.dropped === 0));
});

test('a second subscriber joining with an older sequence catches up without disturbing the first', async () => {
  const api = await fx.startApi();
  const c1 = wsClient(api.url, fx.tokens.a);
  const s1 = collect<Update>(c1, SUB, { ns: fx.namespaces.a }, 4);
  await waitForUpstream(api);
  const seqs = fx.publish('leaf1', [200, 201]);
  await sleep(200);
  const c2 = wsClient(api.url, fx.tokens.a);
  const s2 = collect<Update>(c2, SUB, { ns: fx.namespaces.a, since: String(seqs[0]) }, 3);
  await sleep(300);
  const more = fx.publish('leaf1', [202, 203]);
  const [m1, m2] = await Promise.all([s1.done, s2.done]);
  await c1.dispose();
  await c2.dispose();
  await api.close();
  assert.deepEqual(
    m1.map((m) => m.data?.deviceUpdates.sequence),
    [...seqs, ...more].map(String),
  );
  assert.deepEqual(
    m2.map((m) => m.data?.deviceUpdates.sequence),
    [seqs[1], ...more].map(String),
  );
});

test('after a worker restart, a client resuming from the gap marker’s sequence (before the next batch) still gets that batch', async () => {
  const api = await fx.startApi();
  const client = wsClient(api.url, fx.tokens.a);
  const FULL = `subscription($ns: String!, $since: Sequence) {
    deviceUpdates(namespace: $ns, name: "leaf1", sinceSequence: $since) {
      sequence gap { afterSequence resumedAt reason } values { value }
    }
  }`;
  interface Full {
    deviceUpdates: {
      sequence: string;
      gap: { afterSequence: string; resumedAt: string; reason: string } | null;
      values: { value: number | null }[];
    };
  }
  const sub = collect<Full>(client, FULL, { ns: fx.namespaces.a }, 4);
  await waitForUpstream(api);
  const [old] = fx.publish('leaf1', [300]);
  await waitFor(() => api.services.hub.upstreamCount > 0 && fx.live.readers().length > 0);
  await fx.restartWorker();
  // The API's upstream reconnects to the new worker with the old sequence and gets a gap marker.
  await waitFor(() => fx.live.readers().length > 0);
  const [first, second] = fx.publish('leaf1', [301, 302]);
  const messages = (await sub.done).map((m) => m.data!.deviceUpdates);
  await client.dispose();
  const marker = messages.find((m) => m.gap !== null)!;
  assert.equal(marker.gap?.reason, 'worker-restarted', JSON.stringify(messages));
  assert.equal(marker.gap?.afterSequence, String(old));
  assert.equal(marker.gap?.resumedAt, String(first));
  assert.ok(BigInt(marker.sequence) < BigInt(first!), 'the marker is below the batch that follows it');
  assert.deepEqual(
    messages.map((m) => m.sequence),
    [String(old), marker.sequence, String(first), String(second)],
  );

  // Resume exactly between the marker and the batch after it: on the same replica (its ring) and
  // on a new one (which asks the worker).
  for (const target of [api, await fx.startApi()]) {
    const resumed = wsClient(target.url, fx.tokens.a);
    const again = collect<Full>(resumed, FULL, { ns: fx.namespaces.a, since: marker.sequence }, 2);
    const got = (await again.done).map((m) => m.data!.deviceUpdates);
    await resumed.dispose();
    assert.deepEqual(
      got.map((m) => [m.sequence, m.gap, m.values[0]?.value]),
      [
        [String(first), null, 301],
        [String(second), null, 302],
      ],
    );
  }
  await api.close();
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(50);
  assert.ok(condition(), 'timed out');
}

async function waitForUpstream(api: ApiServer): Promise<void> {
  for (let i = 0; i < 100 && (api.services.hub.upstreamCount === 0 || fx.live.readers().length === 0); i++)
    await sleep(50);
  await sleep(100);
}
