import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { migrate } from '@switchforge/platform/db';
import { pgCtl, useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { MetricWriter, type CommittedBatch } from './metric-writer.js';
import type { Sample } from './sample.js';

let infra: Infra;
let db: pg.Client;
const schema = `writer_${process.pid}`;

before(async () => {
  // Dedicated: one test restarts the server.
  infra = await useInfra({ postgres: true }, { dedicated: true });
  await migrate({ url: infra.postgres.dsn, schema });
  db = new pg.Client({ connectionString: infra.postgres.dsn, options: `-c search_path=${schema}` });
  db.on('error', () => undefined); // the server restart below ends this connection
  await db.connect();
});

after(async () => {
  await db.end().catch(() => undefined);
  await infra.stop();
});

const t0 = BigInt(Date.now()) * 1_000_000n;
function samples(device: string, n: number, offset = 0): Sample[] {
  return Array.from({ length: n }, (_, i) => ({
    device,
    path: '/interfaces/interface/state/counters/in-octets',
    labels: { name: `Ethernet${(i + offset) % 8}` },
    timestampNs: t0 + BigInt(i + offset) * 1_000_000n,
    value: i + offset,
  }));
}

async function count(device: string): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM metrics WHERE device = $1`, [device]);
  return Number(r.rows[0]!.n);
}

function writer(extra: Partial<ConstructorParameters<typeof MetricWriter>[0]> = {}): MetricWriter {
  return new MetricWriter({
    databaseUrl: infra.postgres.dsn,
    schema,
    batchSize: 500,
    flushIntervalMs: 50,
    maxBufferedSamples: 10_000,
    ...extra,
  });
}

test('samples are committed in batches and each committed batch is published', async () => {
  const committed: CommittedBatch[] = [];
  const w = writer({ onCommitted: (b) => committed.push(b) });
  w.add(samples('t/a', 1234));
  await w.flush();
  await w.close();
  assert.equal(await count('t/a'), 1234);
  assert.equal(
    committed.reduce((n, b) => n + b.samples.length, 0),
    1234,
  );
  assert.ok(committed.length >= 3, `batched (${committed.length} batches)`);
});

test('a batch written twice (retry or hand-over) does not duplicate rows', async () => {
  const w = writer();
  w.add(samples('t/b', 300));
  await w.flush();
  w.add(samples('t/b', 300)); // the same samples again, overlapping entirely
  w.add(samples('t/b', 100, 300)); // and new ones in the same batch
  await w.flush();
  await w.close();
  assert.equal(await count('t/b'), 400);
});

test('a series keeps its id across writers, and samples of other label sets get their own', async () => {
  const ids = async () =>
    (
      await db.query<{ labels: { name: string }; id: string }>(
        `SELECT labels, id::text FROM metric_series WHERE device = 't/ids' ORDER BY id`,
      )
    ).rows;
  const first = writer();
  first.add(samples('t/ids', 16));
  await first.flush();
  await first.close();
  const before = await ids();
  assert.equal(before.length, 8, 'one series per interface');
  const second = writer(); // a new process: an empty cache
  second.add(samples('t/ids', 16, 16));
  second.add([{ ...samples('t/ids', 1, 100)[0]!, labels: { name: 'Ethernet9' } }]);
  await second.flush();
  await second.close();
  const after = await ids();
  assert.deepEqual(after.slice(0, 8), before);
  assert.equal(after.length, 9);
  assert.equal(await count('t/ids'), 33);
});

test('above the high-water mark add asks the producer to stop, and whenDrained resolves once written', async () => {
  const w = writer({ batchSize: 100, highWaterMark: 1000, lowWaterMark: 200, flushIntervalMs: 10 });
  assert.equal(w.add(samples('t/bp', 500)), true);
  assert.equal(w.add(samples('t/bp', 600, 500)), false, 'over the high-water mark');
  await w.whenDrained();
  assert.ok(w.bufferedSamples < 200, `buffered ${w.bufferedSamples}`);
  await w.flush();
  await w.close();
  assert.equal(await count('t/bp'), 1100);
  assert.equal(w.dropped, 0);
});

test('while the database is down the buffer stays bounded, drops are counted, and writing resumes after', async () => {
  const w = writer({ maxBufferedSamples: 2000, batchSize: 200 });
  await pgCtl(infra.postgres, 'stop');
  try {
    for (let i = 0; i < 10; i++) {
      w.add(samples('t/c', 500, i * 500));
      await sleep(20);
    }
    assert.ok(w.bufferedSamples <= 2000, `buffered ${w.bufferedSamples}`);
    assert.ok(w.dropped >= 3000, `dropped ${w.dropped}`);
    assert.equal(
      w.bufferedSamples + w.dropped,
      5000,
      'every sample is either buffered or counted as dropped',
    );
    // Writes failing: the producer is not held back (an outage shows as counted drops).
    assert.equal(w.saturated, false);
    await w.whenDrained();
  } finally {
    await pgCtl(infra.postgres, 'start');
  }
  await db.end().catch(() => undefined);
  db = new pg.Client({ connectionString: infra.postgres.dsn, options: `-c search_path=${schema}` });
  db.on('error', () => undefined); // the server restart below ends this connection
  await db.connect();
  const kept = 5000 - w.dropped;
  await waitFor(
    `the ${kept} buffered samples to be written after the restart`,
    async () => (await count('t/c')) === kept,
    30_000,
    250,
  );
  await w.close();
});
