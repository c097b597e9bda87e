/**
 * The live stream's wire format (NDJSON, one message per line), shared in spirit with
 * api/src/live/upstream-protocol.ts which validates it on the other side.
 */
export interface WireSample {
  path: string;
  labels: Readonly<Record<string, string>>;
  /** Nanoseconds since the epoch, as a decimal string (bigint does not survive JSON). */
  ts: string;
  /** Absent for a delete. */
  value?: number | string | boolean;
  deleted?: true;
}

export interface WireBatch {
  type: 'batch';
  device: string;
  /** Per-device, strictly increasing across restarts and hand-overs (hybrid clock, µs). */
  seq: number;
  /** The sequence of the batch this worker published before this one; absent for its first. */
  prev?: number;
  /** Commit time, ms since the epoch (fractional). */
  committedAt: number;
  samples: WireSample[];
}

/**
 * The `since` a client asked for is older than what this worker still holds: batches after
 * `since` and before `resumeFrom` may exist only in PostgreSQL. `reason` says why.
 */
export interface WireGap {
  type: 'gap';
  device: string;
  since: number;
  resumeFrom: number;
  reason: 'evicted' | 'worker-restarted';
}

/** Sent when idle so a silent peer is told apart from a dead one, and so clients learn the head. */
export interface WireHeartbeat {
  type: 'heartbeat';
  device: string;
  head?: number;
}

export type WireMessage = WireBatch | WireGap | WireHeartbeat;
