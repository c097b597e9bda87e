import pg from 'pg';
import { MetricsStore } from '../data/metrics-store.js';
import { createDataSource, migrate } from '@switchforge/platform/db';

export interface SeriesBenchResult {
  rows: number;
  generateSeconds: number;
  points: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * The series query on a large table: `rows` 1 s samples (24 h per series, so rows / 86,400
 * series), generated in PostgreSQL with generate_series into a schema of the benchmark's own;
 * then 24 h of one series downsampled to 500 points, timed over `runs` runs.
 */
export async function measureSeriesQuery(dsn: string, rows: number, runs = 20): Promise<SeriesBenchResult> {
  const schema = `bench_series_${rows}`;
  await migrate({ url: dsn, schema });
  const client = new pg.Client({ connectionString: dsn, options: `-c search_path=${schema}` });
  await client.connect();
  const to = new Date(Math.floor(Date.now() / 1000) * 1000);
  const from = new Date(to.getTime() - 86_400_000);
  const series = Math.max(1, Math.round(rows / 86_400));
  const started = performance.now();
  const { rows: existing } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM metrics`);
  if (Number(existing[0]!.n) < series * 86_400) {
    await client.query(`TRUNCATE metrics`);
    await client.query(`SET synchronous_commit = off`);
    for (let s = 0; s < series; s++) {
      await client.query(
        `INSERT INTO metrics (ts, device, path, labels, value)
         SELECT $1::timestamptz + make_interval(secs => i), 'bench/d' || ($2 % 10), '/interfaces/interface/state/counters/in-octets',
                jsonb_build_object('name', 'Ethernet' || $2), i * 125000.0
           FROM generate_series(0, 86399) i`,
        [from, s],
      );
    }
    await client.query(`ANALYZE metrics`);
  }
  const generateSeconds = (performance.now() - started) / 1000;
  await client.end();

  const db = createDataSource({ url: dsn, schema, poolSize: 2 });
  await db.initialize();
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
