/**
 * Who watches what, across two API replicas on one PostgreSQL: a live subscription through one
 * replica makes its caller a watcher the other replica reports, a caller without `get` on the
 * object sees nothing of it, and a replica killed outright (SIGKILL, no cleanup) takes its
 * watchers with it within seconds. Real parts: kube-apiserver with RBAC and service-account
 * tokens, PostgreSQL, the API in-process (replica A) and as its own process (replica B).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiServer } from '@switchforge/api/server';
import { startApiProcess, type ApiProcess } from '../chart/api-process.js';
import { collect, gql, startApiFixture, wsClient, type ApiFixture } from './fixture.js';

let fx: ApiFixture;
let a: ApiServer;
let b: ApiProcess;
const clients: Array<ReturnType<typeof wsClient>> = [];

before(async () => {
  fx = await startApiFixture('presence');
  a = await fx.startApi();
  b = await startApiProcess({
    kubeconfig: fx.infra.kubernetes.kubeconfig,
    databaseUrl: fx.infra.postgres.dsn,
    schema: fx.schema,
  });
});
after(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await b?.stop();
  await fx.stop();
});

const reader = () => `system:serviceaccount:${fx.namespaces.a}:reader`;
const WATCHERS = `query($ns: String!) { device(namespace: $ns, name: "leaf1") { watchers { user since } } }`;
const CHANGES = `subscription($ns: String!) {
  watchersChanged(kind: Device, namespace: $ns, name: "leaf1") { watchers { user } joined { user } left { user } }
}`;
const UPDATES = `subscription($ns: String!) { deviceUpdates(namespace: $ns, name: "leaf1") { sequence } }`;

type Change = {
  watchersChanged: { watchers: { user: string }[]; joined: { user: string }[]; left: { user: string }[] };
};

async function watchersThrough(url: string, token: string): Promise<string[]> {
  const r = await gql(url, token, WATCHERS, { ns: fx.namespaces.a });
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  return (r.body.data?.device as { watchers: { user: string }[] }).watchers.map((w) => w.user);
}

test('a live subscription through replica B makes its caller a watcher replica A reports; a caller without rights sees none of it', async () => {
  assert.deepEqual(await watchersThrough(a.url, fx.tokens.a), [], 'no one watches yet');
  const viaB = wsClient(b.url, fx.tokens.a);
  clients.push(viaB);
  // Kept open for the next test too; the client's dispose ends it.
  collect(viaB, UPDATES, { ns: fx.namespaces.a }, 1_000, 60_000);
  let seen: string[] = [];
  for (let i = 0; i < 50 && seen.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    seen = await watchersThrough(a.url, fx.tokens.a);
  }
  assert.deepEqual(seen, [reader()]);

  const refused = await gql(a.url, fx.tokens.b, WATCHERS, { ns: fx.namespaces.a });
  assert.equal(refused.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  assert.ok(!JSON.stringify(refused.body).includes(reader()), 'no watcher leaks to namespace B');
  const subscriber = wsClient(a.url, fx.tokens.b);
  clients.push(subscriber);
  const denied = await collect<Change>(subscriber, CHANGES, { ns: fx.namespaces.a }, 1).done;
  assert.equal(denied[0]?.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(denied));
});

test('replica B killed: replica A says within seconds that its watcher left', async (t) => {
  const viaA = wsClient(a.url, fx.tokens.a);
  clients.push(viaA);
  const changes = collect<Change>(viaA, CHANGES, { ns: fx.namespaces.a }, 2, 30_000);
  for (let i = 0; i < 50 && changes.messages.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(
    changes.messages[0]?.data?.watchersChanged.watchers.map((w) => w.user),
    [reader()],
    JSON.stringify(changes.messages),
  );
  const killed = Date.now();
  await b.kill();
  const [, left] = await changes.done;
  const after = (Date.now() - killed) / 1000;
  assert.deepEqual(
    left?.data?.watchersChanged.left.map((w) => w.user),
    [reader()],
    JSON.stringify(left),
  );
  assert.deepEqual(left?.data?.watchersChanged.watchers, []);
  assert.ok(after < 10, `cleared ${after.toFixed(1)} s after the kill (lease 6 s)`);
  t.diagnostic(`replica B killed: its watcher left A's answer ${after.toFixed(1)} s later`);
});
