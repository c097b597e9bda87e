import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiServer } from '@switchforge/api/server';
import { collect, gql, startApiFixture, wsClient, type ApiFixture } from './fixture.js';

let fx: ApiFixture;
let api: ApiServer;

before(async () => {
  fx = await startApiFixture('access');
  api = await fx.startApi();
});
after(() => fx.stop());

const DEVICES = `query($ns: String) { devices(namespace: $ns) { totalCount nodes { namespace name labels { name value } } } }`;

test('a token allowed in namespace A lists only namespace A devices', async () => {
  const r = await gql(api.url, fx.tokens.a, DEVICES);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const devices = (r.body.data?.devices as { nodes: { namespace: string; name: string }[] }).nodes;
  assert.deepEqual(devices.map((d) => `${d.namespace}/${d.name}`).sort(), [
    `${fx.namespaces.a}/leaf1`,
    `${fx.namespaces.a}/spine1`,
  ]);
});

test('asking for namespace B with an A token is refused as FORBIDDEN, and single lookups too', async () => {
  const list = await gql(api.url, fx.tokens.a, DEVICES, { ns: fx.namespaces.b });
  assert.equal(list.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  const one = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!) { device(namespace: $ns, name: "secret-leaf") { name } }`,
    { ns: fx.namespaces.b },
  );
  assert.equal(one.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  assert.equal(JSON.stringify(one.body).includes('fra'), false, 'nothing of B leaks');
});

test('label selectors filter the visible devices', async () => {
  const r = await gql(
    api.url,
    fx.tokens.a,
    `{ devices(labelSelector: "role in (spine)") { nodes { name } } }`,
  );
  assert.deepEqual(
    (r.body.data?.devices as { nodes: { name: string }[] }).nodes.map((d) => d.name),
    ['spine1'],
  );
});

test('a request without a token, or with a forged one, is UNAUTHENTICATED with 401', async () => {
  for (const token of [undefined, 'not-a-real-token']) {
    const r = await gql(api.url, token, DEVICES);
    assert.equal(r.status, 401);
    assert.equal(r.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  }
});

test('a subscription to a device in namespace B with an A token gets FORBIDDEN and no values', async () => {
  const client = wsClient(api.url, fx.tokens.a);
  const sub = collect(
    client,
    `subscription($ns: String!) { deviceUpdates(namespace: $ns, name: "secret-leaf") { sequence } }`,
    { ns: fx.namespaces.b },
    1,
    5_000,
  );
  const messages = await sub.done;
  await client.dispose();
  assert.equal(messages.length, 1);
  assert.equal(messages[0]?.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(messages));
});

test('deviceStatus for every visible namespace never carries a namespace B device', async () => {
  const client = wsClient(api.url, fx.tokens.a);
  const sub = collect<{ deviceStatus: { namespace: string; name: string; status: { phase: string } } }>(
    client,
    `subscription { deviceStatus { namespace name status { phase } } }`,
    {},
    2,
    10_000,
  );
  await new Promise((r) => setTimeout(r, 500));
  for (const [ns, name] of [
    [fx.namespaces.b, 'secret-leaf'],
    [fx.namespaces.a, 'leaf1'],
  ] as const) {
    const patch = JSON.stringify({ status: { phase: 'Connected' } });
    const r = await fx.infra.kubernetes.kubectl([
      'patch',
      'device',
      name,
      '-n',
      ns,
      '--subresource=status',
      '--type=merge',
      '-p',
      patch,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const messages = await sub.done;
  await client.dispose();
  const seen = messages.map((m) => `${m.data?.deviceStatus.namespace}/${m.data?.deviceStatus.name}`);
  assert.ok(seen.includes(`${fx.namespaces.a}/leaf1`), JSON.stringify(messages));
  assert.ok(!seen.some((s) => s.startsWith(`${fx.namespaces.b}/`)), JSON.stringify(seen));
});

test('a graphql-ws connection_init without a valid token is refused', async () => {
  const client = wsClient(api.url, 'forged');
  const sub = collect(
    client,
    `subscription($ns: String!) { deviceUpdates(namespace: $ns, name: "leaf1") { sequence } }`,
    { ns: fx.namespaces.a },
    1,
    5_000,
  );
  const messages = await sub.done;
  await client.dispose();
  assert.match(messages[0]?.errors?.[0]?.message ?? '', /Forbidden/);
});

test('audio jobs: create in A is allowed (strict validation by the apiserver), in B refused, delete works', async () => {
  const create = `mutation($ns: String!) { createAudioJob(input: { namespace: $ns, name: "demo", source: { url: "https://media.example.com/a.wav" }, stages: { analyze: { features: ["tempo"] } } }) { namespace name progress } }`;
  const inB = await gql(api.url, fx.tokens.a, create, { ns: fx.namespaces.b });
  assert.equal(inB.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  const inA = await gql(api.url, fx.tokens.a, create, { ns: fx.namespaces.a });
  assert.deepEqual(
    inA.body.data?.createAudioJob,
    { namespace: fx.namespaces.a, name: 'demo', progress: 0 },
    JSON.stringify(inA.body),
  );
  const invalid = await gql(
    api.url,
    fx.tokens.a,
    `mutation($ns: String!) { createAudioJob(input: { namespace: $ns, name: "bad", source: { url: "ftp://x" }, stages: { analyze: { bogus: 1 } } }) { name } }`,
    { ns: fx.namespaces.a },
  );
  assert.equal(invalid.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(invalid.body));
  const del = await gql(
    api.url,
    fx.tokens.a,
    `mutation($ns: String!) { deleteAudioJob(namespace: $ns, name: "demo") }`,
    { ns: fx.namespaces.a },
  );
  assert.equal(del.body.data?.deleteAudioJob, true);
});

test('triggerBackup annotates the Device with the request time', async () => {
  const r = await gql(
    api.url,
    fx.tokens.a,
    `mutation($ns: String!) { triggerBackup(namespace: $ns, name: "leaf1") { requestedAt } }`,
    { ns: fx.namespaces.a },
  );
  const at = (r.body.data?.triggerBackup as { requestedAt: string } | undefined)?.requestedAt;
  assert.ok(at, JSON.stringify(r.body));
  const got = await fx.infra.kubernetes.kubectl([
    'get',
    'device',
    'leaf1',
    '-n',
    fx.namespaces.a,
    '-o',
    `jsonpath={.metadata.annotations.switchforge\\.io/backup-requested}`,
  ]);
  assert.equal(got.stdout, at);
});
