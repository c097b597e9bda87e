import { z } from 'zod';

/**
 * The live stream between a device worker (which writes it) and API replicas (which validate it
 * on arrival): NDJSON, one message per line, served on LIVE_PORT at LIVE_PATH
 * (`@switchforge/platform/device-worker`). Batches carry a per-device sequence and the one
 * before it, gap markers say what the worker no longer holds, heartbeats keep an idle peer told
 * apart from a dead one. The worker imports only the types (no zod at its run time).
 */
const sampleValue = z.union([z.number(), z.string(), z.boolean()]);

export const wireSample = z.object({
  path: z.string(),
  labels: z.record(z.string(), z.string()),
  /** Nanoseconds since the epoch, as a decimal string (bigint does not survive JSON). */
  ts: z.string().regex(/^\d{1,20}$/),
  /** Absent for a delete. */
  value: sampleValue.optional(),
  deleted: z.literal(true).optional(),
});

export const wireBatch = z.object({
  type: z.literal('batch'),
  device: z.string(),
  /** Per-device, strictly increasing across restarts and hand-overs (hybrid clock, µs). */
  seq: z.number().int().nonnegative(),
  /** The sequence of the batch this worker published before this one; absent for its first. */
  prev: z.number().int().nonnegative().optional(),
  /** Commit time, ms since the epoch (fractional). */
  committedAt: z.number(),
  samples: z.array(wireSample),
});

/** Why a worker cannot replay everything after the `since` a reader asked for. */
export const WIRE_GAP_REASONS = ['evicted', 'worker-restarted'] as const;

/**
 * The `since` a reader asked for is older than what the worker still holds: batches after
 * `since` and before `resumeFrom` may exist only in PostgreSQL.
 */
export const wireGap = z.object({
  type: z.literal('gap'),
  device: z.string(),
  since: z.number(),
  resumeFrom: z.number(),
  reason: z.enum(WIRE_GAP_REASONS),
});

/** Sent when idle, and so that readers learn the head. */
export const wireHeartbeat = z.object({
  type: z.literal('heartbeat'),
  device: z.string(),
  head: z.number().optional(),
});

export const wireMessage = z.discriminatedUnion('type', [wireBatch, wireGap, wireHeartbeat]);

export type WireSample = z.infer<typeof wireSample>;
export type WireBatch = z.infer<typeof wireBatch>;
export type WireGap = z.infer<typeof wireGap>;
export type WireHeartbeat = z.infer<typeof wireHeartbeat>;
export type WireMessage = z.infer<typeof wireMessage>;
