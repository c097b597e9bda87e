import { metrics } from '@opentelemetry/api';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { copyRow, METRIC_COLUMNS } from './copy-format.js';
import type { Sample } from './sample.js';

const meter = metrics.getMeter('switchforge-worker');
const rowsWritten = meter.createCounter('switchforge.worker.rows.written', {
  description: 'Metric rows committed to PostgreSQL',
});
const batchDuration = meter.createHistogram('switchforge.worker.batch.duration', {
  description: 'Time to commit one batch of metric rows',
  unit: 's',
});
const writeErrors = meter.createCounter('switchforge.worker.write.errors', {
  description: 'Batch writes that failed and will be retried',
});
const droppedUpdates = meter.createCounter('switchforge.worker.updates.dropped', {
  description: 'Updates dropped because the bounded buffer was full (database slow or down)',
});
const bufferedGauge = meter.createObservableGauge('switchforge.worker.buffer.samples', {
  description: 'Samples waiting to be written',
});

export interface CommittedBatch {
  device: string;
  samples: readonly Sample[];
}

export interface MetricWriterOptions {
  databaseUrl: string;
  /** PostgreSQL schema holding the metrics table (tests isolate by schema). */
  schema?: string;
  /** Samples per COPY. */
  batchSize: number;
  /** Longest a sample waits before its batch is written. */
  flushIntervalMs: number;
  /** Most samples held in memory; beyond it the oldest are dropped and counted. */
  maxBufferedSamples: number;
  onCommitted?: (batch: CommittedBatch) => void;
}

/**
 * Batches samples and writes them with COPY. A batch is retried until it commits (with backoff)
 * while the buffer stays bounded: when the database is slow or down the oldest samples are
 * dropped and counted, never queued without limit. Writes are idempotent on the metrics key, so
 * a retried batch or a hand-over between workers cannot duplicate rows.
 */
export class MetricWriter {
  private readonly pending: Sample[][] = [];
  private current: Sample[] = [];
  private buffered = 0;
  private droppedTotal = 0;
  private lastDropAt = 0;
  private client: pg.Client | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;
  private paused = false;
  private failures = 0;
  lastCommitAt: Date | undefined;

  constructor(private readonly options: MetricWriterOptions) {
    bufferedGauge.addCallback((r) => r.observe(this.buffered));
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** Whether samples were dropped in the last `windowMs`. */
  droppedRecently(windowMs = 60_000): boolean {
    return Date.now() - this.lastDropAt < windowMs;
  }

  get bufferedSamples(): number {
    return this.buffered;
  }

  add(samples: readonly Sample[]): void {
    if (this.closed || this.paused) return;
    for (const s of samples) {
      this.current.push(s);
      if (this.current.length >= this.options.batchSize) this.seal();
    }
    this.buffered += samples.length;
    this.enforceBound();
    if (this.current.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.seal();
      }, this.options.flushIntervalMs);
    }
    this.kick();
  }

  private seal(): void {
    if (this.current.length === 0) return;
    this.pending.push(this.current);
    this.current = [];
    this.kick();
  }

  private enforceBound(): void {
    while (this.buffered > this.options.maxBufferedSamples && this.pending.length > 1) {
      // Keep the batch being written (index 0); drop the next-oldest.
      const dropped = this.pending.splice(1, 1)[0]!;
      this.buffered -= dropped.length;
      this.droppedTotal += dropped.length;
      this.lastDropAt = Date.now();
      droppedUpdates.add(dropped.length);
    }
    if (this.buffered > this.options.maxBufferedSamples && this.current.length > 0) {
      const excess = Math.min(this.current.length, this.buffered - this.options.maxBufferedSamples);
      this.current.splice(0, excess);
      this.buffered -= excess;
      this.droppedTotal += excess;
      this.lastDropAt = Date.now();
      droppedUpdates.add(excess);
    }
  }

  private kick(): void {
    if (this.writing || this.pending.length === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      if (this.pending.length > 0 && !this.closed) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.paused) {
      const batch = this.pending[0]!;
      try {
        await this.write(batch);
        this.pending.shift();
        this.buffered -= batch.length;
        this.failures = 0;
        this.lastCommitAt = new Date();
        const device = batch[0]?.device ?? '';
        this.options.onCommitted?.({ device, samples: batch });
      } catch (e) {
        writeErrors.add(1);
        this.failures++;
        log.warn('metric batch write failed; will retry', { error: errorMessage(e), buffered: this.buffered });
        await this.resetClient();
        if (this.closed) return;
        await sleep(Math.min(5000, 100 * 2 ** Math.min(this.failures, 6)));
      }
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'switchforge-device-worker',
      ...(this.options.schema ? { options: `-c search_path=${this.options.schema}` } : {}),
    });
    client.on('error', () => void this.resetClient());
    await client.connect();
    // Staging for the idempotent path; ON COMMIT DELETE ROWS empties it after each batch.
    await client.query(
      `CREATE TEMP TABLE IF NOT EXISTS metrics_staging (LIKE metrics INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
    );
    this.client = client;
    return client;
  }

  private async resetClient(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  /**
   * Fast path: COPY straight into metrics. When the batch overlaps committed rows (a retry after
   * a lost commit acknowledgement, or a hand-over), COPY fails on the key and the batch goes
   * through the staging table with ON CONFLICT DO NOTHING instead.
   */
  private async write(batch: readonly Sample[]): Promise<void> {
    const started = performance.now();
    const client = await this.connection();
    try {
      await this.copy(client, `COPY metrics ${METRIC_COLUMNS} FROM STDIN`, batch);
    } catch (e) {
      if ((e as { code?: string }).code !== '23505') throw e;
      await client.query('BEGIN');
      try {
        await this.copy(client, `COPY metrics_staging ${METRIC_COLUMNS} FROM STDIN`, batch);
        await client.query(`INSERT INTO metrics SELECT * FROM metrics_staging ON CONFLICT DO NOTHING`);
        await client.query('COMMIT');
      } catch (inner) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw inner;
      }
    }
    rowsWritten.add(batch.length);
    batchDuration.record((performance.now() - started) / 1000);
  }

  private async copy(client: pg.Client, sql: string, batch: readonly Sample[]): Promise<void> {
    const stream = client.query(copyFrom(sql));
    const chunks = function* () {
      let chunk = '';
      for (const s of batch) {
        chunk += copyRow(s);
        if (chunk.length > 64 * 1024) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    };
    await pipeline(Readable.from(chunks()), stream);
  }

  /** Stops accepting and writing (the lease was lost): what is buffered is discarded. */
  pause(): void {
    this.paused = true;
    this.pending.length = 0;
    this.current = [];
    this.buffered = 0;
  }

  resume(): void {
    this.paused = false;
  }

  /** Writes what is buffered (SIGTERM), giving up after `timeoutMs`. */
  async flush(timeoutMs = 10_000): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.seal();
    const deadline = Date.now() + timeoutMs;
    while ((this.pending.length > 0 || this.writing) && Date.now() < deadline) {
      this.kick();
      await Promise.race([this.writing, sleep(100)]);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.writing;
    await this.resetClient();
  }
}
