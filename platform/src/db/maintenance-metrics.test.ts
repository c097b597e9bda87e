import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { useInfra, type Infra } from '@switchforge/testkit';
import { startTelemetry, type Telemetry } from '../telemetry/index.js';
import { createDataSource, migrate, startRollupRefresher } from './index.js';

let infra: Infra;
let db: DataSource;
let telemetry: Telemetry;
const schema = `upkeep_${process.pid}`;

before(async () => {
  // Before any refresher runs: its instruments bind to the provider set up here.
  telemetry = await startTelemetry({
    serviceName: 'upkeep-test',
    prometheusPort: 0,
    prometheusHost: '127.0.0.1',
  });
  infra = await useInfra({ postgres: true });
  await migrate({ url: infra.postgres.dsn, schema });
  db = await createDataSource({ url: infra.postgres.dsn, schema, poolSize: 3 }).initialize();
});

after(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db?.destroy();
  await telemetry?.shutdown();
  await infra.stop();
});

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${telemetry.prometheusPort}/metrics`);
  return res.text();
}

test('the refresher keeps partitions ahead and the rollup fresh, and exports what it did', async () => {
  const old = new Date(Date.now() - 10 * 60_000);
  await db.query(
    `INSERT INTO metrics (ts, device, path, labels, value) VALUES ($1, 'ns/sw1', '/cpu', '{}', 7)`,
    [old],
  );
  const refresher = startRollupRefresher(db, { intervalMs: 200, partitions: { daysAhead: 15 } });
  try {
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await scrape();
      if (/switchforge_db_rollup_watermark_lag\{[^}]*\} \d/.test(text)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(text, /switchforge_db_rollup_refresh_duration_count\{[^}]*result="ok"[^}]*\} [1-9]/);
    assert.match(
      text,
      /switchforge_db_partitions_created_total\{[^}]*\} [1-9]/,
      'days beyond the first week',
    );
    assert.match(text, /switchforge_db_rollup_ranges_aggregated_total\{[^}]*\} [1-9]/);
    const lag = Number(/switchforge_db_rollup_watermark_lag\{[^}]*\} ([\d.e+]+)/.exec(text)?.[1]);
    assert.ok(lag >= 60 && lag < 180, `the watermark trails now by the one-minute lag, not more: ${lag} s`);
    const [row] = (await db.query(`SELECT sum(count)::int AS n FROM metric_rollup_1m`)) as Array<{
      n: number;
    }>;
    assert.equal(row?.n, 1, 'the sample from ten minutes ago is in the rollup');
  } finally {
    await refresher.stop();
  }
});
