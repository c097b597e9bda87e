import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { ApiServer } from '@switchforge/api/server';
import { gql, startApiFixture, type ApiFixture } from './fixture.js';

let fx: ApiFixture;
let api: ApiServer;
const to = new Date(Math.floor(Date.now() / 60_000) * 60_000);
const from = new Date(to.getTime() - 3_600_000);

before(async () => {
  fx = await startApiFixture('history');
  api = await fx.startApi();
  const db = new pg.Client({
    connectionString: fx.infra.postgres.dsn,
    options: `-c search_path=${fx.schema}`,
  });
  await db.connect();
  const device = `${fx.namespaces.a}/leaf1`;
  // An hour of 1 s counter samples for two interfaces: +10/s, and Ethernet2 resets halfway.
  await db.query(
    `INSERT INTO metrics (ts, device, path, labels, value)
     SELECT $2::timestamptz + make_interval(secs => s), $1, '/interfaces/interface/state/counters/in-octets',
            jsonb_build_object('name', n),
            CASE WHEN n = 'Ethernet2' AND s >= 1800 THEN (s - 1800) * 10 ELSE s * 10 END
       FROM generate_series(0, 3599) s, unnest(ARRAY['Ethernet1', 'Ethernet2']) n`,
    [device, from],
  );
  await db.query(
    `INSERT INTO metrics (ts, device, path, labels, value_text) VALUES (now(), $1, '/system/state/hostname', '{}', 'leaf1')`,
    [device],
  );
  await db.query(
    `INSERT INTO config_backups (device, taken_at, content_hash, content, size_bytes, format, trigger)
     VALUES ($1, now() - interval '1 day', 'h1', E'hostname leaf1\\ninterface Ethernet1\\n  mtu 1500\\n', 40, 'json', 'schedule'),
            ($1, now(), 'h2', E'hostname leaf1\\ninterface Ethernet1\\n  mtu 9000\\n', 40, 'json', 'api')`,
    [device],
  );
  await db.end();
});
after(() => fx.stop());

interface SeriesResult {
  series: {
    labels: { name: string };
    bucketSeconds: number;
    points: { time: string; count: number; min: number; max: number; last: number; rate: number }[];
  }[];
}

test('a series query downsamples server-side into the requested number of buckets per label set', async () => {
  const r = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!, $from: DateTime!, $to: DateTime!) {
      series(input: { namespace: $ns, device: "leaf1", path: "/interfaces/interface/state/counters/in-octets", from: $from, to: $to, points: 60 }) {
        labels bucketSeconds points { time count min max last rate }
      }
    }`,
    { ns: fx.namespaces.a, from: from.toISOString(), to: to.toISOString() },
  );
  const series = (r.body.data as SeriesResult | undefined)?.series;
  assert.ok(series, JSON.stringify(r.body));
  assert.deepEqual(
    series.map((s) => s.labels.name),
    ['Ethernet1', 'Ethernet2'],
  );
  const [e1, e2] = series;
  assert.equal(e1!.bucketSeconds, 60);
  assert.equal(e1!.points.length, 60);
  assert.deepEqual(
    {
      count: e1!.points[1]!.count,
      min: e1!.points[1]!.min,
      max: e1!.points[1]!.max,
      last: e1!.points[1]!.last,
    },
    { count: 60, min: 600, max: 1190, last: 1190 },
  );
  assert.equal(e1!.points[1]!.rate, 10, 'a counter rising 10/s has rate 10');
  // The reset bucket is not a negative rate.
  assert.ok(
    e2!.points.every((p) => p.rate >= 0),
    JSON.stringify(e2!.points.map((p) => p.rate)),
  );
});

test('a series can be narrowed by labels and given a fixed bucket', async () => {
  const r = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!, $from: DateTime!, $to: DateTime!) {
      series(input: { namespace: $ns, device: "leaf1", path: "/interfaces/interface/state/counters/in-octets", from: $from, to: $to, bucket: "10m", labels: { name: "Ethernet2" } }) {
        labels points { avg }
      }
    }`,
    { ns: fx.namespaces.a, from: from.toISOString(), to: to.toISOString() },
  );
  const series = (r.body.data as SeriesResult | undefined)?.series;
  assert.equal(series?.length, 1, JSON.stringify(r.body));
  assert.equal(series[0]!.points.length, 6);
});

test('a device shows its latest values, strings as text', async () => {
  const r = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!) { device(namespace: $ns, name: "leaf1") { latestValues(pathPrefix: "/system") { path text value } } }`,
    {
      ns: fx.namespaces.a,
    },
  );
  assert.deepEqual((r.body.data?.device as { latestValues: unknown[] }).latestValues, [
    { path: '/system/state/hostname', text: 'leaf1', value: null },
  ]);
});

test('configuration backups page newest first and two versions diff as a unified patch', async () => {
  const list = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!) { configBackups(namespace: $ns, device: "leaf1", first: 1) { nodes { id trigger } pageInfo { hasNextPage endCursor } } }`,
    {
      ns: fx.namespaces.a,
    },
  );
  const page = list.body.data?.configBackups as {
    nodes: { id: string; trigger: string }[];
    pageInfo: { hasNextPage: boolean; endCursor: string };
  };
  assert.equal(page.nodes[0]?.trigger, 'api');
  assert.equal(page.pageInfo.hasNextPage, true);
  const next = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!, $after: String) { configBackups(namespace: $ns, device: "leaf1", first: 1, after: $after) { nodes { id } pageInfo { hasNextPage } } }`,
    {
      ns: fx.namespaces.a,
      after: page.pageInfo.endCursor,
    },
  );
  const older = (next.body.data?.configBackups as { nodes: { id: string }[] }).nodes[0]!.id;
  const diff = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!, $from: ID!, $to: ID!) { configDiff(namespace: $ns, device: "leaf1", from: $from, to: $to) { additions deletions patch hunks { lines } } }`,
    {
      ns: fx.namespaces.a,
      from: older,
      to: page.nodes[0]!.id,
    },
  );
  const d = diff.body.data?.configDiff as {
    additions: number;
    deletions: number;
    patch: string;
    hunks: { lines: string[] }[];
  };
  assert.equal(d.additions, 1, JSON.stringify(diff.body));
  assert.equal(d.deletions, 1);
  assert.match(d.patch, /- {2}mtu 1500\n\+ {2}mtu 9000/);
});

test('history of a namespace B device is refused to an A token', async () => {
  const r = await gql(
    api.url,
    fx.tokens.a,
    `query($ns: String!) { configBackups(namespace: $ns, device: "secret-leaf") { nodes { id } } }`,
    { ns: fx.namespaces.b },
  );
  assert.equal(r.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
});
