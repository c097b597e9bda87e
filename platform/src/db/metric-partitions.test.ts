import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { useInfra, type Infra } from '@switchforge/testkit';
import { createDataSource, maintainMetricPartitions, migrate } from './index.js';

let infra: Infra;
let db: DataSource;
const schema = `partitions_${process.pid}`;
const DAY_MS = 86_400_000;

before(async () => {
  infra = await useInfra({ postgres: true });
  await migrate({ url: infra.postgres.dsn, schema });
  db = await createDataSource({ url: infra.postgres.dsn, schema, poolSize: 3 }).initialize();
});

after(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db?.destroy();
  await infra.stop();
});

async function partitions(): Promise<string[]> {
  const rows = (await db.query(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'metric_samples'::regclass ORDER BY 1`,
  )) as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

const dayName = (offsetDays: number) =>
  `metric_samples_${new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '')}`;

async function write(ts: Date, value: number): Promise<void> {
  await db.query(
    `INSERT INTO metrics (ts, device, path, labels, value) VALUES ($1, 'ns/sw1', '/cpu', '{}', $2)`,
    [ts, value],
  );
}

test('day partitions are kept ready ahead of today, and a second run creates none', async () => {
  const first = await maintainMetricPartitions(db, { daysAhead: 20 });
  assert.equal(first.ran, true);
  assert.ok(first.created > 0, 'the migration made about a week; twenty days ahead needs more');
  const names = await partitions();
  for (const offset of [0, 10, 20])
    assert.ok(names.includes(dayName(offset)), `${dayName(offset)} in ${names}`);
  assert.equal((await maintainMetricPartitions(db, { daysAhead: 20 })).created, 0);

  const inTwoWeeks = new Date(Date.now() + 14 * DAY_MS);
  await write(inTwoWeeks, 1);
  const [row] = (await db.query(`SELECT tableoid::regclass::text AS part FROM metric_samples WHERE ts = $1`, [
    inTwoWeeks,
  ])) as Array<{ part: string }>;
  assert.equal(
    row?.part,
    dayName(14),
    'a sample two weeks ahead lands in its day, not the default partition',
  );
});

test('retention drops whole day partitions older than it and keeps the rest', async () => {
  await db.query(`SELECT switchforge_ensure_metric_partitions(current_date - 40, 3)`);
  const old = new Date(Date.now() - 39 * DAY_MS);
  const recent = new Date(Date.now() - 2 * DAY_MS);
  await write(old, 1);
  await write(recent, 2);
  await db.query(
    `INSERT INTO metric_rollup_1m (series_id, bucket, count, min, max, sum, first_ts, first_value, last_ts, last_value)
     SELECT id, date_bin('1 minute', $1::timestamptz, 'epoch'), 1, 1, 1, 1, $1, 1, $1, 1 FROM metric_series LIMIT 1`,
    [old],
  );

  const result = await maintainMetricPartitions(db, { retentionDays: 30 });
  assert.ok(
    result.dropped.includes(dayName(-40)) && result.dropped.includes(dayName(-39)),
    String(result.dropped),
  );
  assert.ok(!result.dropped.some((n) => n >= dayName(-29)), `nothing inside the 30 days: ${result.dropped}`);
  const values = (await db.query(`SELECT value FROM metrics ORDER BY ts`)) as Array<{ value: number }>;
  assert.deepEqual(
    values.map((v) => v.value),
    [2, 1],
    'the sample from 39 days ago is gone; the recent one and the one ahead stay',
  );
  const [rollups] = (await db.query(
    `SELECT count(*)::int AS n FROM metric_rollup_1m WHERE bucket < now() - interval '30 days'`,
  )) as Array<{ n: number }>;
  assert.equal(rollups?.n, 0);
});

test('one process at a time maintains: a second one finds the lock taken and does nothing', async () => {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(7364004, hashtext(current_schema()))`);
    const result = await maintainMetricPartitions(db, { retentionDays: 1 });
    assert.deepEqual(result, { ran: false, created: 0, dropped: [] });
  } finally {
    await runner.query(`SELECT pg_advisory_unlock(7364004, hashtext(current_schema()))`);
    await runner.release();
  }
});
