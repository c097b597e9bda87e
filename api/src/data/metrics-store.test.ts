import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate, refreshMetricRollups } from '@switchforge/platform/db';
import { useInfra, type Infra } from '@switchforge/testkit';
import { MetricsStore, type Series } from './metrics-store.js';

let infra: Infra;
let client: pg.Client;
let ds: DataSource;
let store: MetricsStore;
const schema = `metrics_store_${process.pid}`;
const DEVICE = 'ns/leaf1';
const PATH = '/interfaces/interface/state/counters/in-octets';
// Two hours of 1 s counter samples up to now: the rollup serves all but the last minutes.
const to = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 60_000);
const from = new Date(to.getTime() - 2 * 3_600_000);

before(async () => {
  infra = await useInfra({ postgres: true });
  await migrate({ url: infra.postgres.dsn, schema });
  client = new pg.Client({ connectionString: infra.postgres.dsn, options: `-c search_path=${schema}` });
  await client.connect();
  ds = createDataSource({ url: infra.postgres.dsn, schema, poolSize: 2 });
  await ds.initialize();
  store = new MetricsStore(ds);
  // Ethernet2 resets an hour in; samples stop 2 s short of now (the tail the rollup has not got).
  await client.query(
    `INSERT INTO metrics (ts, device, path, labels, value)
     SELECT $2::timestamptz + make_interval(secs => s), $1, $3, jsonb_build_object('name', n),
            CASE WHEN n = 'Ethernet2' AND s >= 3600 THEN (s - 3600) * 10 ELSE s * 10 END
       FROM generate_series(0, 7199) s, unnest(ARRAY['Ethernet1', 'Ethernet2']) n
      WHERE $2::timestamptz + make_interval(secs => s) < now() - interval '2 seconds'`,
    [DEVICE, from, PATH],
  );
  await client.query(
    `INSERT INTO metrics (ts, device, path, labels, value_text) VALUES (now(), $1, '/system/state/hostname', '{}', 'leaf1')`,
    [DEVICE],
  );
});

after(async () => {
  await ds.destroy();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  await infra.stop();
});

interface Point {
  labels: string;
  time: number;
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  last: number | null;
  rate: number | null;
}

/** The aggregation straight over raw rows (the query before rollups existed), as the reference. */
async function rawAggregation(seconds: number): Promise<Point[]> {
  const r = await client.query<Omit<Point, 'time'> & { bucket: Date }>(
    `WITH b AS (
       SELECT labels, date_bin(make_interval(secs => $5), ts, $3::timestamptz) AS bucket,
              count(*)::int AS count, min(value) AS min, max(value) AS max, avg(value) AS avg,
              (array_agg(value ORDER BY ts DESC))[1] AS last, (array_agg(value ORDER BY ts))[1] AS first
         FROM metrics
        WHERE device = $1 AND path = $2 AND ts >= $3 AND ts < $4 AND NOT deleted AND value IS NOT NULL
        GROUP BY labels, bucket
     ), d AS (
       SELECT *, last - coalesce(lag(last) OVER w, first) AS delta,
              coalesce(extract(epoch FROM bucket - lag(bucket) OVER w), $5) AS span
         FROM b WINDOW w AS (PARTITION BY labels ORDER BY bucket)
     )
     SELECT labels->>'name' AS labels, bucket, count, min, max, avg, last,
            (CASE WHEN delta < 0 THEN last ELSE delta END) / span AS rate
       FROM d ORDER BY labels::text, bucket`,
    [DEVICE, PATH, from, to, seconds],
  );
  return r.rows.map(({ bucket, ...p }) => ({ ...p, time: bucket.getTime() }));
}

function flatten(series: Series[]): Point[] {
  return series.flatMap((s) =>
    s.points.map((p) => ({ labels: s.labels.name!, ...p, time: p.time.getTime() })),
  );
}

function assertSame(actual: Point[], expected: Point[]): void {
  assert.equal(actual.length, expected.length, 'bucket count');
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    // avg is a sum / count of partial sums: equal to float rounding.
    assert.ok(Math.abs(a.avg! - e.avg!) <= 1e-9 * Math.max(1, Math.abs(e.avg!)), `avg at ${i}`);
    assert.deepEqual({ ...a, avg: 0 }, { ...e, avg: 0 }, `bucket ${i}`);
  }
}

const query = { device: DEVICE, path: PATH, from, to };

test('buckets of whole minutes read the rollup and the raw tail, and equal the raw aggregation', async () => {
  const refreshed = await refreshMetricRollups(ds);
  assert.ok(refreshed.ran && refreshed.watermark, 'refreshed');
  assert.ok(refreshed.watermark.getTime() > from.getTime() + 3_600_000);
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM metric_rollup_1m`);
  assert.ok(Number(rows[0]!.n) > 200, `${rows[0]!.n} rollup rows`);
  for (const points of [120, 24, 7]) {
    const series = await store.series({ ...query, points });
    const seconds = series[0]!.bucketSeconds;
    assert.equal(seconds % 60, 0, `${points} points: ${seconds} s buckets`);
    assertSame(flatten(series), await rawAggregation(seconds));
  }
});

test('a late row below the watermark is read raw until re-aggregated, then from the rollup', async () => {
  // A sample between two 1 s samples, 30 minutes back, above every value so far, and a reset.
  const late = new Date(from.getTime() + 1_800_500);
  await client.query(
    `INSERT INTO metrics (ts, device, path, labels, value) VALUES ($2, $1, $3, '{"name":"Ethernet1"}', 1e9),
       ($4, $1, $3, '{"name":"Ethernet1"}', 5)`,
    [DEVICE, late, PATH, new Date(late.getTime() + 60_000)],
  );
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM metric_rollup_invalidations`);
  assert.ok(Number(rows[0]!.n) >= 1, 'the late rows are recorded as invalidations');
  const before = flatten(await store.series({ ...query, points: 120 }));
  assertSame(before, await rawAggregation(60));
  assert.ok(before.some((p) => p.max === 1e9));

  await refreshMetricRollups(ds);
  const left = await client.query<{ n: string }>(`SELECT count(*) AS n FROM metric_rollup_invalidations`);
  assert.equal(Number(left.rows[0]!.n), 0);
  const afterRefresh = flatten(await store.series({ ...query, points: 120 }));
  assertSame(afterRefresh, await rawAggregation(60));
});

test('sub-minute buckets read raw samples and equal the raw aggregation', async () => {
  const series = await store.series({ ...query, bucket: '20s' });
  assert.equal(series[0]!.bucketSeconds, 20);
  assertSame(flatten(series), await rawAggregation(20));
});

test('label filters pick series, and latest values come one per series', async () => {
  const one = await store.series({ ...query, labels: { name: 'Ethernet2' }, points: 10 });
  assert.deepEqual(
    one.map((s) => s.labels),
    [{ name: 'Ethernet2' }],
  );
  const latest = await store.latestValues(DEVICE, undefined, 10);
  assert.deepEqual(
    latest.map((v) => [v.path, v.labels.name ?? null]),
    [
      [PATH, 'Ethernet1'],
      [PATH, 'Ethernet2'],
      ['/system/state/hostname', null],
    ],
  );
  assert.equal(latest[2]!.text, 'leaf1');
});
