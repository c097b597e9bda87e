import { LATENCY_BUCKETS_SECONDS } from '@switchforge/platform/telemetry/buckets';
import { metrics } from '@opentelemetry/api';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '@switchforge/platform/backoff';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { binaryCopyChunks, SAMPLE_COLUMNS } from './copy-format.js';
import type { Sample } from './sample.js';
import { SeriesIds } from './series-ids.js';

const meter = metrics.getMeter('switchforge-worker');
const rowsWritten = meter.createCounter('switchforge.worker.rows.written', {
  description: 'Metric rows committed to PostgreSQL',
});
const batchDuration = meter.createHistogram('switchforge.worker.batch.duration', {
  advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
  description: 'Time to commit one batch of metric rows',
  unit: 's',
});
const writeErrors = meter.createCounter('switchforge.worker.write.errors', {
  description: 'Batch writes that failed and will be retried',
});
const droppedUpdates = meter.createCounter('switchforge.worker.updates.dropped', {
  description:
    'Updates dropped: reason buffer_full (database slow or down) or memory_pressure (the worker near its memory limit)',
});
const bufferedGauge = meter.createObservableGauge('switchforge.worker.buffer.samples', {
  description: 'Samples waiting to be written',
});
const backpressurePauses = meter.createCounter('switchforge.worker.backpressure.pauses', {
  description: 'Times the writer asked the session to stop reading (buffer over its high-water mark)',
});

export type DropReason = 'buffer_full' | 'memory_pressure';

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
  /**
   * Batches committed at once, each on its own connection: while PostgreSQL checks keys and
   * writes one batch, the next is already being encoded and sent (default 2).
   */
  connections?: number;
  /**
   * Buffered samples at which `add` asks the producer to stop reading (returns false), while
   * PostgreSQL is accepting writes; default batchSize × (connections + 2), at most half the bound.
   */
  highWaterMark?: number;
  /** Buffered samples below which `whenDrained` resolves; default half the high-water mark. */
  lowWaterMark?: number;
  onCommitted?: (batch: CommittedBatch) => void;
  /** Told how many samples each `add` brings, before they are buffered (the memory guard). */
  onAdding?: (samples: number) => void;
}

/**
 * Batches samples and writes them with binary COPY into `metric_samples`, each sample's
 * (device, path, labels) resolved to its series id through an in-memory cache. A batch is retried
 * until it commits (with backoff) while the buffer stays bounded: when the database is down the
 * oldest samples are dropped and counted, never queued without limit. While the database is up
 * but slower than the session, `add` returns false above the high-water mark so that the session
 * stops reading (TCP/HTTP/2 flow control then holds the switch back) until `whenDrained`.
 * Writes are idempotent on (series_id, ts), so a retried batch or a hand-over between workers
 * cannot duplicate rows.
 */
export class MetricWriter {
  /** Sealed batches waiting for a connection, oldest first. */
  private readonly pending: Sample[][] = [];
  private current: Sample[] = [];
  private buffered = 0;
  private droppedTotal = 0;
  private droppedForMemory = 0;
  private lastDropAt = 0;
  private lastDropReason: DropReason = 'buffer_full';
  private shedding = false;
  private readonly clients: Array<pg.Client | undefined>;
  /** One drain loop per connection slot, while it has work. */
  private readonly drains: Array<Promise<void> | undefined>;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private paused = false;
  private failures = 0;
  /** Samples of batches being written right now. */
  private inflight = 0;
  private readonly series = new SeriesIds();
  private readonly opening = new Map<number, Promise<pg.Client>>();
  private readonly highWaterMark: number;
  private readonly lowWaterMark: number;
  /** Producers waiting for the buffer to go below the low-water mark. */
  private drainWaiters: Array<() => void> = [];
  lastCommitAt: Date | undefined;

  constructor(private readonly options: MetricWriterOptions) {
    const slots = Math.max(1, options.connections ?? 2);
    this.clients = new Array<pg.Client | undefined>(slots).fill(undefined);
    this.drains = new Array<Promise<void> | undefined>(slots).fill(undefined);
    this.highWaterMark = Math.max(
      1,
      options.highWaterMark ??
        Math.min(options.batchSize * (slots + 2), Math.floor(options.maxBufferedSamples / 2)),
    );
    this.lowWaterMark = Math.min(
      options.lowWaterMark ?? Math.floor(this.highWaterMark / 2),
      this.highWaterMark,
    );
    bufferedGauge.addCallback((r) => r.observe(this.buffered));
  }

  /**
   * Over the high-water mark while writes succeed. While they fail (database down) the producer
   * keeps going and the bound drops and counts the oldest samples, so that an outage shows as
   * counted drops here rather than as a stalled session.
   */
  get saturated(): boolean {
    return this.buffered >= this.highWaterMark && this.failures === 0 && !this.paused && !this.closed;
  }

  /** Resolves once the producer may read again (below the low-water mark, or writes failing). */
  whenDrained(): Promise<void> {
    if (!this.mayResume()) return new Promise((resolve) => this.drainWaiters.push(resolve));
    return Promise.resolve();
  }

  private mayResume(): boolean {
    return this.buffered < this.lowWaterMark || this.failures > 0 || this.paused || this.closed;
  }

  private wakeProducers(): void {
    if (this.drainWaiters.length === 0 || !this.mayResume()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** Of `dropped`, those shed under memory pressure. */
  get droppedUnderPressure(): number {
    return this.droppedForMemory;
  }

  /** Why the latest drop happened. */
  get lastDropCause(): DropReason {
    return this.lastDropReason;
  }

  /**
   * Memory pressure on or off (see MemoryGuard). On: the batches waiting for a connection are
   * dropped and counted, and new samples are dropped as they arrive, so memory stops growing
   * while batches already on a connection still commit; off: buffering resumes.
   */
  setMemoryPressure(on: boolean): void {
    this.shedding = on;
    if (!on) return;
    while (this.pending.length > 0) this.countDropped(this.pending.shift()!.length, 'memory_pressure');
    if (this.current.length > 0) {
      this.countDropped(this.current.length, 'memory_pressure');
      this.current = [];
    }
    this.wakeProducers();
  }

  /** Whether samples were dropped in the last `windowMs`. */
  droppedRecently(windowMs = 60_000): boolean {
    return Date.now() - this.lastDropAt < windowMs;
  }

  get bufferedSamples(): number {
    return this.buffered;
  }

  /** Buffers `samples`; false asks the producer to stop reading until `whenDrained` resolves. */
  add(samples: readonly Sample[]): boolean {
    if (this.closed || this.paused) return true;
    this.options.onAdding?.(samples.length);
    if (this.shedding) {
      this.buffered += samples.length;
      this.countDropped(samples.length, 'memory_pressure');
      return true;
    }
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
    const saturated = this.saturated;
    if (saturated) backpressurePauses.add(1);
    return !saturated;
  }

  private seal(): void {
    if (this.current.length === 0) return;
    this.pending.push(this.current);
    this.current = [];
    this.kick();
  }

  private enforceBound(): void {
    // Batches on a connection are not in `pending`: the oldest waiting batches go first.
    while (this.buffered > this.options.maxBufferedSamples && this.pending.length > 0) {
      this.countDropped(this.pending.shift()!.length);
    }
    if (this.buffered > this.options.maxBufferedSamples && this.current.length > 0) {
      const excess = Math.min(this.current.length, this.buffered - this.options.maxBufferedSamples);
      this.current.splice(0, excess);
      this.countDropped(excess);
    }
  }

  private countDropped(n: number, reason: DropReason = 'buffer_full'): void {
    this.buffered -= n;
    this.droppedTotal += n;
    if (reason === 'memory_pressure') this.droppedForMemory += n;
    this.lastDropAt = Date.now();
    this.lastDropReason = reason;
    droppedUpdates.add(n, { reason });
  }

  private kick(): void {
    if (this.closed || this.paused) return;
    for (let slot = 0; slot < this.drains.length && this.pending.length > 0; slot++) {
      if (this.drains[slot]) continue;
      this.drains[slot] = this.drain(slot).finally(() => {
        this.drains[slot] = undefined;
        if (this.pending.length > 0) this.kick();
      });
    }
  }

  private get writing(): boolean {
    return this.drains.some((d) => d !== undefined);
  }

  private async drain(slot: number): Promise<void> {
    while (this.pending.length > 0 && !this.paused && !this.closed) {
      const batch = this.pending.shift()!;
      this.inflight += batch.length;
      try {
        await this.write(slot, batch);
        this.inflight -= batch.length;
        this.buffered -= batch.length;
        this.failures = 0;
        this.lastCommitAt = new Date();
        const device = batch[0]?.device ?? '';
        this.options.onCommitted?.({ device, samples: batch });
        this.wakeProducers();
      } catch (e) {
        this.inflight -= batch.length;
        writeErrors.add(1);
        this.failures++;
        // Back to the front: it is retried before newer batches, unless the bound drops it.
        if (!this.paused) this.pending.unshift(batch);
        else this.buffered -= batch.length;
        this.wakeProducers();
        log.warn('metric batch write failed; will retry', {
          error: errorMessage(e),
          buffered: this.buffered,
        });
        await this.resetClient(slot);
        if (this.closed) return;
        await sleep(backoffDelay(this.failures - 1, { baseMs: 100, capMs: 5000 }));
      }
    }
  }

  private connection(slot: number): Promise<pg.Client> {
    const existing = this.clients[slot];
    if (existing) return Promise.resolve(existing);
    // One connect per slot at a time (connectEarly and the first write may ask together).
    let opening = this.opening.get(slot);
    if (!opening) {
      opening = this.openConnection(slot).finally(() => this.opening.delete(slot));
      this.opening.set(slot, opening);
    }
    return opening;
  }

  private async openConnection(slot: number): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'switchforge-device-worker',
      ...(this.options.schema ? { options: `-c search_path=${this.options.schema}` } : {}),
    });
    client.on('error', () => void this.resetClient(slot));
    try {
      await client.connect();
      // Staging for the idempotent path; ON COMMIT DELETE ROWS empties it after each batch.
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS metric_samples_staging (LIKE metric_samples INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
      );
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    this.clients[slot] = client;
    return client;
  }

  private async resetClient(slot: number): Promise<void> {
    const c = this.clients[slot];
    this.clients[slot] = undefined;
    await c?.end().catch(() => undefined);
  }

  /**
   * Fast path: COPY straight into metric_samples. When the batch overlaps committed rows (a retry
   * after a lost commit acknowledgement, or a hand-over), COPY fails on the key and the batch
   * goes through the staging table with ON CONFLICT DO NOTHING instead.
   */
  private async write(slot: number, batch: readonly Sample[]): Promise<void> {
    const started = performance.now();
    const client = await this.connection(slot);
    const ids = await this.series.resolve(client, batch);
    try {
      await this.copy(client, `COPY metric_samples ${SAMPLE_COLUMNS} FROM STDIN (FORMAT binary)`, batch, ids);
    } catch (e) {
      if ((e as { code?: string }).code !== '23505') throw e;
      await client.query('BEGIN');
      try {
        await this.copy(
          client,
          `COPY metric_samples_staging ${SAMPLE_COLUMNS} FROM STDIN (FORMAT binary)`,
          batch,
          ids,
        );
        await client.query(
          `INSERT INTO metric_samples SELECT * FROM metric_samples_staging ON CONFLICT DO NOTHING`,
        );
        await client.query('COMMIT');
      } catch (inner) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw inner;
      }
    }
    rowsWritten.add(batch.length);
    batchDuration.record((performance.now() - started) / 1000);
  }

  private async copy(
    client: pg.Client,
    sql: string,
    batch: readonly Sample[],
    ids: ArrayLike<number>,
  ): Promise<void> {
    const stream = client.query(copyFrom(sql));
    await pipeline(Readable.from(binaryCopyChunks(batch, ids), { objectMode: false }), stream);
  }

  /**
   * Opens the first connection now, beside the worker's other start-up work, so the first batch
   * does not wait for a connection, its authentication and the staging table (start → first row).
   * A failure here is only logged: the first write retries as always.
   */
  connectEarly(): void {
    void this.connection(0).catch((e: unknown) =>
      log.warn('early database connection failed; the first write retries', { error: errorMessage(e) }),
    );
  }

  /** Stops accepting and writing (the lease was lost): what is buffered is discarded. */
  pause(): void {
    this.paused = true;
    this.pending.length = 0;
    this.current = [];
    this.buffered = this.inflight;
    this.wakeProducers();
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  /** Writes what is buffered (SIGTERM), giving up after `timeoutMs`. */
  async flush(timeoutMs = 10_000): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.seal();
    const deadline = Date.now() + timeoutMs;
    while ((this.pending.length > 0 || this.writing) && Date.now() < deadline) {
      this.kick();
      await Promise.race([Promise.all(this.drains), sleep(100)]);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeProducers();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await Promise.all(this.drains);
    await Promise.all(this.clients.map((_, slot) => this.resetClient(slot)));
  }
}
