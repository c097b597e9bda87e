import { z } from 'zod';

/**
 * The device workers' live stream (worker/src/live/wire.ts), validated on arrival: NDJSON of
 * batches (with a per-device sequence and the previous one), gap markers and heartbeats.
 */
const sampleValue = z.union([z.number(), z.string(), z.boolean()]);

export const wireSample = z.object({
  path: z.string(),
  labels: z.record(z.string(), z.string()),
  ts: z.string().regex(/^\d{1,20}$/),
  value: sampleValue.optional(),
  deleted: z.literal(true).optional(),
});

export const wireBatch = z.object({
  type: z.literal('batch'),
  device: z.string(),
  seq: z.number().int().nonnegative(),
  prev: z.number().int().nonnegative().optional(),
  committedAt: z.number(),
  samples: z.array(wireSample),
});

export const wireGap = z.object({
  type: z.literal('gap'),
  device: z.string(),
  since: z.number(),
  resumeFrom: z.number(),
  reason: z.string(),
});

export const wireHeartbeat = z.object({
  type: z.literal('heartbeat'),
  device: z.string(),
  head: z.number().optional(),
});

export const wireMessage = z.discriminatedUnion('type', [wireBatch, wireGap, wireHeartbeat]);

export type WireSample = z.infer<typeof wireSample>;
export type WireBatch = z.infer<typeof wireBatch>;
export type WireGap = z.infer<typeof wireGap>;
export type WireMessage = z.infer<typeof wireMessage>;

export const LIVE_PATH = '/live/v1/batches';
