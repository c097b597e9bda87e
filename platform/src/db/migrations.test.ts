import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { useInfra, type Infra } from '@switchforge/testkit';
import { migrate, revertLastMigration, migrations } from './index.js';

let infra: Infra;
let client: pg.Client;
const schema = `migrations_${process.pid}`;

before(async () => {
  infra = await useInfra({ postgres: true });
  client = new pg.Client({ connectionString: infra.postgres.dsn });
  await client.connect();
});

after(async () => {
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  await infra.stop();
});

async function tables(): Promise<string[]> {
  const r = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return r.rows.map((row) => row.table_name);
}

test('migrations apply on an empty database and a second run applies nothing', async () => {
  const applied = await migrate({ url: infra.postgres.dsn, schema });
  assert.deepEqual(
    applied,
    migrations.map((m) => m.name),
  );
  assert.deepEqual(await migrate({ url: infra.postgres.dsn, schema }), []);
  const names = await tables();
  for (const t of [
    'metrics',
    'metric_series',
    'metric_samples',
    'metric_samples_default',
    'metric_rollup_1m',
    'config_backups',
    'audio_jobs',
    'audio_results',
  ]) {
    assert.ok(names.includes(t), `${t} in ${names.join(',')}`);
  }
});

test('samples are partitioned by day and rows written through the metrics view land in their partition', async () => {
  await client.query(`SET search_path TO "${schema}"`);
  const ts = new Date();
  await client.query(
    `INSERT INTO metrics (ts, device, path, labels, value) VALUES ($1, 'ns/sw1', '/cpu', '{}', 1)`,
    [ts],
  );
  const r = await client.query<{ part: string }>(
    `SELECT tableoid::regclass::text AS part FROM metric_samples`,
  );
  const day = ts.toISOString().slice(0, 10).replace(/-/g, '');
  assert.match(r.rows[0]!.part, new RegExp(`metric_samples_${day}$`));
});

test('a duplicate sample (same device, path, labels and time) is rejected by the key', async () => {
  const ts = new Date('2020-01-01T00:00:00Z'); // outside created partitions: goes to the default one
  const insert = `INSERT INTO metrics (ts, device, path, labels, value) VALUES ($1, 'ns/sw1', '/if/in', '{"name":"e1"}', 1)`;
  await client.query(insert, [ts]);
  await assert.rejects(client.query(insert, [ts]), /duplicate key/);
  await client.query(`RESET search_path`);
});

test('the series dictionary migration keeps existing rows, and its revert restores the old table', async () => {
  const dsn = infra.postgres.dsn;
  const names = migrations.map((m) => m.name);
  const seriesDictionary = 'SeriesDictionary1764200000000';
  // The migrations after it go first, and come back after it.
  const later = names.slice(names.indexOf(seriesDictionary) + 1);
  const rows = async () =>
    (
      await client.query<{ device: string; path: string; labels: object; value: number | null }>(
        `SELECT device, path, labels, value FROM "${schema}".metrics ORDER BY ts`,
      )
    ).rows;
  const before = await rows();
  for (let i = 0; i <= later.length; i++) await revertLastMigration({ url: dsn, schema });
  const kind = await client.query<{ relkind: string }>(
    `SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`,
    [`"${schema}".metrics`],
  );
  assert.equal(kind.rows[0]!.relkind, 'p', 'the partitioned table is back');
  assert.deepEqual(await rows(), before);
  await client.query(
    `INSERT INTO "${schema}".metrics (ts, device, path, labels, value) VALUES (now(), 'ns/sw2', '/cpu', '{}', 7)`,
  );
  assert.deepEqual(await migrate({ url: dsn, schema }), [seriesDictionary, ...later]);
  const after = await rows();
  assert.deepEqual(after.slice(0, before.length), before);
  assert.deepEqual(after[before.length], { device: 'ns/sw2', path: '/cpu', labels: {}, value: 7 });
  const series = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".metric_series`);
  assert.equal(Number(series.rows[0]!.n), 3);
});

test('migrations revert, leaving no tables behind', async () => {
  for (let i = 0; i < migrations.length; i++) await revertLastMigration({ url: infra.postgres.dsn, schema });
  assert.deepEqual(await tables(), ['switchforge_migrations']);
});
