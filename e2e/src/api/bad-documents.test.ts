import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiServer } from '@switchforge/api/server';
import { collect, gql, startApiFixture, wsClient, type ApiFixture } from './fixture.js';

let fx: ApiFixture;
let api: ApiServer;

before(async () => {
  fx = await startApiFixture('baddocs');
  api = await fx.startApi({ mode: 'production', rateLimit: { perSecond: 1_000, burst: 1_000 } });
});
after(() => fx.stop());

/** devices → edges → node → (configBackups → edges → node) × n: depth 3 + 3n. */
const nested = (n: number) =>
  `{ devices { edges { node { ${'configBackups { edges { node { '.repeat(n)}id${' } } }'.repeat(n)} } } } }`;
const aliases = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: devices { totalCount }`).join(' ')} }`;
const costly = `{ ${Array.from({ length: 12 }, (_, i) => `a${i}: devices(first: 500) { nodes { name namespace uid address port protocol labels { name value } status { phase workerPod conditions { type status reason message } } } }`).join(' ')} }`;

const cases: [name: string, query: string, variables: Record<string, unknown> | undefined, expect: RegExp][] =
  [
    ['a syntax error', '{ devices { nodes { name } ', undefined, /Syntax Error/],
    [
      'an unknown field (and no suggestion of the right one in production)',
      '{ devices { nodes { nmae } } }',
      undefined,
      /Cannot query field "nmae"/,
    ],
    ['a document nested too deep', nested(3), undefined, /depth/i],
    ['too many aliases', aliases, undefined, /alias/i],
    ['a document over the cost limit', costly, undefined, /cost/i],
    ['a document with too many tokens', `{ ${'devices { totalCount } '.repeat(600)} }`, undefined, /token/i],
    [
      'a variable of the wrong type',
      'query($n: Int) { devices(first: $n) { totalCount } }',
      { n: 'many' },
      /Int cannot represent/,
    ],
    ['introspection in production', '{ __schema { types { name } } }', undefined, /introspection/i],
    ['an out-of-range page size', '{ devices(first: 0) { totalCount } }', undefined, /first must be between/],
    [
      'a page size so large the cost limit refuses it',
      '{ devices(first: 100000) { totalCount } }',
      undefined,
      /cost limit/i,
    ],
    [
      'a malformed label selector',
      '{ devices(labelSelector: "a in (b") { totalCount } }',
      undefined,
      /label selector/,
    ],
  ];

for (const [name, query, variables, expect] of cases) {
  test(`${name} gets a GraphQL error, not a crash`, async () => {
    const r = await gql(api.url, fx.tokens.a, query, variables);
    const messages = (r.body.errors ?? []).map((e) => e.message).join('; ');
    assert.ok(r.body.errors?.length, `expected errors, got ${JSON.stringify(r.body).slice(0, 300)}`);
    assert.match(messages, expect);
    assert.doesNotMatch(messages, /Did you mean/);
  });
}

test('huge variables are refused with a GraphQL-shaped 413 before parsing', async () => {
  const r = await gql(
    api.url,
    fx.tokens.a,
    'query($x: String) { devices(labelSelector: $x) { totalCount } }',
    { x: 'x'.repeat(1_000_000) },
  );
  assert.equal(r.status, 413);
  assert.equal(r.body.errors?.[0]?.extensions?.code, 'PAYLOAD_TOO_LARGE');
});

test('bad documents over graphql-ws get error messages and the connection stays usable', async () => {
  const client = wsClient(api.url, fx.tokens.a);
  for (const query of ['subscription { deviceUpdates(', nested(3), 'subscription { nope }']) {
    const r = await collect(client, query, {}, 1, 5_000).done;
    assert.ok(r[0]?.errors?.length, JSON.stringify(r));
  }
  const ok = await collect<{ devices: { totalCount: number } }>(
    client,
    '{ devices { totalCount } }',
    {},
    1,
    5_000,
  ).done;
  await client.dispose();
  assert.equal(ok[0]?.data?.devices.totalCount, 2);
});

test('typed errors keep their code in production while the rest is masked', async () => {
  // Typed errors keep their code and message; anything else would read 'Unexpected error.'.
  const r = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!) { series(input: { namespace: $ns, device: "leaf1", path: "/x", from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z", labels: "not-an-object" }) { path } }`,
    { ns: fx.namespaces.a },
  );
  assert.equal(r.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(r.body));
  const masked = await gql(
    api.url,
    fx.tokens.a,
    `{ configDiff(namespace: "${fx.namespaces.a}", device: "leaf1", from: "1", to: "2") { patch } }`,
  );
  assert.equal(masked.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
});

test('the server still answers after all of the above', async () => {
  const r = await gql(api.url, fx.tokens.a, '{ devices { totalCount } }');
  assert.equal((r.body.data?.devices as { totalCount: number }).totalCount, 2);
});
