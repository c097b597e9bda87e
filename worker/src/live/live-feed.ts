import { metrics } from '@opentelemetry/api';
import type { CommittedBatch } from '../device/metric-writer.js';
import type { WireGap } from '@switchforge/platform/live-wire';

const meter = metrics.getMeter('switchforge-worker');
const published = meter.createCounter('switchforge.worker.live.batches.published', {
  description: 'Committed batches stamped with a sequence and offered to live subscribers',
});
const evicted = meter.createCounter('switchforge.worker.live.batches.evicted', {
  description: 'Batches that left the replay ring (count, byte or age limit)',
});

export interface RetentionOptions {
  /** Most batches kept per device. */
  maxBatches: number;
  /** Most serialised bytes kept per device. */
  maxBytes: number;
  /** Oldest batch kept, by commit time. */
  maxAgeMs: number;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  maxBatches: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxAgeMs: 10 * 60_000,
};

/**
 * One batch as held in the ring: its serialised line (sent as is to every reader) and the
 * header fields replay needs. Only the string is kept, not the message's object graph: a ring of
 * tens of megabytes of sample objects would make every major GC of a busy worker walk it.
 */
export interface RingEntry {
  readonly seq: number;
  readonly prev?: number;
  readonly committedAt: number;
  /** NDJSON line, newline included; serialised once, shared by all readers. */
  readonly line: string;
  readonly bytes: number;
}

export type Replay =
  | { kind: 'entries'; entries: readonly RingEntry[] }
  | { kind: 'gap'; gap: WireGap; entries: readonly RingEntry[] };

export type FeedListener = (entry: RingEntry) => void;

interface DeviceRing {
  entries: RingEntry[];
  bytes: number;
  /** Sequence of the newest batch ever published here (survives eviction). */
  last?: number;
  listeners: Set<FeedListener>;
  /** While memory pressure lasts: the bytes this ring may hold (a quarter of what it held). */
  pressureBytes?: number;
}

export interface LiveFeedOptions {
  retention?: Partial<RetentionOptions>;
  /** Wall clock in ms; tests replace it to prove monotonicity when the clock steps back. */
  now?: () => number;
}

/**
 * The worker's side of the live path: every committed batch gets a per-device sequence and goes
 * into a bounded ring (count, bytes, age) from which API replicas replay after a reconnect, then
 * to the listeners following live.
 *
 * The sequence is a hybrid clock, `max(last + 1, now_ms * 1000)`: strictly increasing within a
 * process, and a worker that restarts or takes the device over starts above anything its
 * predecessor issued as long as the clocks agree to better than the gap between commits. It
 * stays below 2^53 (safe in JSON and JavaScript numbers) until the year 2255.
 */
export class LiveFeed {
  private readonly rings = new Map<string, DeviceRing>();
  private readonly retention: RetentionOptions;
  private readonly now: () => number;
  /** Under memory pressure each ring keeps a quarter of what it held (see MemoryGuard). */
  private pressure = false;

  constructor(options: LiveFeedOptions = {}) {
    this.retention = { ...DEFAULT_RETENTION, ...options.retention };
    this.now = options.now ?? Date.now;
  }

  /** Stamps a committed batch with its sequence, keeps it in the ring and hands it to listeners. */
  publish(batch: CommittedBatch): RingEntry | undefined {
    if (batch.samples.length === 0) return undefined;
    const ring = this.ring(batch.device);
    const now = this.now();
    const seq = Math.max((ring.last ?? 0) + 1, Math.floor(now * 1000));
    const line = batchLine(batch, seq, ring.last, now);
    const entry: RingEntry = {
      seq,
      ...(ring.last === undefined ? {} : { prev: ring.last }),
      committedAt: now,
      line,
      bytes: Buffer.byteLength(line),
    };
    ring.entries.push(entry);
    ring.bytes += entry.bytes;
    ring.last = seq;
    this.evict(ring, now);
    published.add(1);
    for (const l of ring.listeners) l(entry);
    return entry;
  }

  /**
   * Memory pressure on or off: on, every ring drops its oldest batches down to a quarter of what
   * it holds (at most a quarter of its bound) and grows no further until pressure is off.
   */
  setMemoryPressure(on: boolean): void {
    if (on === this.pressure) return;
    this.pressure = on;
    const now = this.now();
    for (const ring of this.rings.values()) {
      if (on) ring.pressureBytes = Math.min(ring.bytes, this.retention.maxBytes) / 4;
      else delete ring.pressureBytes;
      this.evict(ring, now);
    }
  }

  /** Serialised bytes held across all devices. */
  get heldBytes(): number {
    let n = 0;
    for (const ring of this.rings.values()) n += ring.bytes;
    return n;
  }

  /** The newest sequence published for a device. */
  head(device: string): number | undefined {
    return this.rings.get(device)?.last;
  }

  /** Devices with at least one published batch. */
  devices(): string[] {
    return [...this.rings.keys()];
  }

  /**
   * What a reader that has seen everything up to `since` must get before following live. A gap
   * is reported when `since` is given and the ring no longer reaches back to `since` (evicted, or published by an
   * earlier worker); the entries after it are returned all the same.
   */
  replay(device: string, since: number | undefined): Replay {
    const ring = this.ring(device);
    this.evict(ring, this.now());
    // A reader that started before anything was published takes everything, without a gap.
    if (since === undefined) return { kind: 'entries', entries: ring.entries.slice() };
    const i = firstAfter(ring.entries, since);
    if (i === ring.entries.length) {
      // Nothing newer held: a gap only if batches newer than `since` existed and were evicted.
      if (ring.last !== undefined && ring.last > since) {
        return { kind: 'gap', gap: this.gap(device, since, ring.last + 1, 'evicted'), entries: [] };
      }
      return { kind: 'entries', entries: [] };
    }
    const first = ring.entries[i]!;
    const entries = ring.entries.slice(i);
    const prev = first.prev;
    if (prev === since) return { kind: 'entries', entries };
    if (prev === undefined) {
      // No sequence lies between first.seq - 1 and first.seq: a reader there (the gap marker's own
      // sequence, see the API's DeviceUpdate.sequence) has been told of the gap already.
      if (since >= first.seq - 1) return { kind: 'entries', entries };
      return { kind: 'gap', gap: this.gap(device, since, first.seq, 'worker-restarted'), entries };
    }
    if (prev > since) return { kind: 'gap', gap: this.gap(device, since, first.seq, 'evicted'), entries };
    // `since` lies between two held batches (a client's own number, not one we issued): no loss.
    return { kind: 'entries', entries };
  }

  /** Follows new batches of a device; returns the unsubscribe function. */
  follow(device: string, listener: FeedListener): () => void {
    const ring = this.ring(device);
    ring.listeners.add(listener);
    return () => ring.listeners.delete(listener);
  }

  private gap(device: string, since: number, resumeFrom: number, reason: WireGap['reason']): WireGap {
    return { type: 'gap', device, since, resumeFrom, reason };
  }

  private ring(device: string): DeviceRing {
    let ring = this.rings.get(device);
    if (!ring) {
      ring = { entries: [], bytes: 0, listeners: new Set() };
      this.rings.set(device, ring);
    }
    return ring;
  }

  private evict(ring: DeviceRing, now: number): void {
    const { maxBatches, maxAgeMs } = this.retention;
    const maxBytes = this.pressure
      ? (ring.pressureBytes ?? this.retention.maxBytes / 4)
      : this.retention.maxBytes;
    let n = 0;
    while (
      ring.entries.length > 0 &&
      (ring.entries.length - n > maxBatches ||
        ring.bytes > maxBytes ||
        now - ring.entries[n]!.committedAt > maxAgeMs)
    ) {
      ring.bytes -= ring.entries[n]!.bytes;
      n++;
      if (n === ring.entries.length) break;
    }
    if (n > 0) {
      ring.entries.splice(0, n);
      evicted.add(n);
    }
  }
}

/** Index of the first entry whose sequence is above `since` (entries are in sequence order). */
function firstAfter(entries: readonly RingEntry[], since: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.seq > since) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The NDJSON line of a `WireBatch`, written as a string: a busy worker publishes about a hundred
 * thousand samples a second, and an object per sample only to stringify it doubles the garbage.
 */
function batchLine(
  batch: CommittedBatch,
  seq: number,
  prev: number | undefined,
  committedAt: number,
): string {
  let line = `{"type":"batch","device":${JSON.stringify(batch.device)},"seq":${seq}`;
  if (prev !== undefined) line += `,"prev":${prev}`;
  line += `,"committedAt":${committedAt},"samples":[`;
  const samples = batch.samples;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (i > 0) line += ',';
    line += `{"path":${JSON.stringify(s.path)},"labels":${JSON.stringify(s.labels)},"ts":"${s.timestampNs}"`;
    // JSON.stringify gives what an object's field would hold (NaN and infinities become null).
    line += s.value === undefined ? ',"deleted":true}' : `,"value":${JSON.stringify(s.value)}}`;
  }
  return `${line}]}\n`;
}
