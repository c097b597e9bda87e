import pg from 'pg';
import { MetricsStore } from '@switchforge/api/data/metrics-store';
import { createDataSource, migrate, refreshMetricRollups } from '@switchforge/platform/db';

export interface SeriesBenchResult {
  rows: number;
  generateSeconds: number;
  points: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * The series query on a large table: `rows` 1 s samples (24 h per series, so rows / 86,400
 * series: 116 series for 10M rows), generated in PostgreSQL with generate_series straight into
 * the samples table of a schema of the benchmark's own (kept between runs: generating 10M rows
 * takes a few minutes on 2 cores); the rollup is refreshed as the API would, then 24 h of one
 * series downsampled to ~500 points (480 of 3 min: bucket widths round to whole minutes) is
 * timed over `runs` runs. The last minutes stay raw, as they are in production.
 */
export async function measureSeriesQuery(dsn: string, rows: number, runs = 20): Promise<SeriesBenchResult> {
  const schema = `bench_series_${rows}`;
  await migrate({ url: dsn, schema });
  const client = new pg.Client({ connectionString: dsn, options: `-c search_path=${schema}` });
  await client.connect();
  const series = Math.max(1, Math.round(rows / 86_400));
  const started = performance.now();
  const { rows: existing } = await client.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM metric_samples`,
  );
  if (Number(existing[0]!.n) !== series * 86_400) {
    await client.query(
      `TRUNCATE metric_samples, metric_series, metric_rollup_1m, metric_rollup_invalidations`,
    );
    await client.query(`UPDATE metric_rollup_state SET watermark = NULL`);
    await client.query(`SET synchronous_commit = off`);
    const generateFrom = new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000);
    await client.query(
      `INSERT INTO metric_series (device, path, labels)
       SELECT 'bench/d' || (s % 10), '/interfaces/interface/state/counters/in-octets',
              jsonb_build_object('name', 'Ethernet' || s)
         FROM generate_series(0, $1 - 1) s ORDER BY s`,
      [series],
    );
    for (let s = 1; s <= series; s++) {
      await client.query(
        `INSERT INTO metric_samples (series_id, ts, value)
         SELECT $2, $1::timestamptz + make_interval(secs => i), i * 125000.0
           FROM generate_series(0, 86399) i`,
        [generateFrom, s],
      );
    }
    await client.query(`ANALYZE metric_samples`);
    await client.query(`ANALYZE metric_series`);
  }
  const { rows: range } = await client.query<{ first: Date; last: Date }>(
    `SELECT min(ts) AS first, max(ts) AS last FROM metric_samples
      WHERE series_id = (SELECT id FROM metric_series WHERE device = 'bench/d0' AND labels = '{"name":"Ethernet0"}')`,
  );
  const from = range[0]!.first;
  const to = new Date(range[0]!.last.getTime() + 1000);
  await client.end();

  const db = createDataSource({ url: dsn, schema, poolSize: 2 });
  await db.initialize();
  await refreshMetricRollups(db, { budgetMs: 600_000 });
  const generateSeconds = (performance.now() - started) / 1000;
  const store = new MetricsStore(db);
  const times: number[] = [];
  let points = 0;
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    const result = await store.series({
      device: 'bench/d0',
      path: '/interfaces/interface/state/counters/in-octets',
      labels: { name: 'Ethernet0' },
      from,
      to,
      points: 500,
    });
    if (i >= 2) times.push(performance.now() - t0);
    points = result[0]?.points.length ?? 0;
  }
  await db.destroy();
  times.sort((a, b) => a - b);
  return {
    rows: series * 86_400,
    generateSeconds,
    points,
    p50Ms: times[Math.floor(times.length / 2)]!,
    p99Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!,
  };
}
