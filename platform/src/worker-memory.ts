/**
 * A device worker's memory, sized from what its Device asks for. The operator turns the plan
 * into the container's request and limit and the V8 flags (NODE_OPTIONS); the worker sizes its
 * bounded buffers from the same plan and sheds load near the limit (see worker/src/device/
 * memory-guard.ts) instead of being OOM-killed. One function, so the two sides cannot disagree.
 */
import type { DeviceSpec } from './crd/device.js';
import { parseDuration } from './crd/duration.js';
import { quantityValue } from './quantity.js';

/** On a Device: the updates per second its worker should be sized for (overrides the estimate). */
export const EXPECTED_RATE_ANNOTATION = 'switchforge.io/expected-updates-per-second';

/** Environment the operator sets on a worker from its plan. */
export const WORKER_MEMORY_ENV = {
  limitBytes: 'SWITCHFORGE_MEMORY_LIMIT_BYTES',
  maxBufferedSamples: 'SWITCHFORGE_MAX_BUFFERED_SAMPLES',
  liveRingBytes: 'SWITCHFORGE_LIVE_RING_BYTES',
} as const;

const MiB = 1024 * 1024;

/**
 * Measured with `npm run bench -- ingest` (heap snapshots): an idle, connected worker with its
 * modules loaded; a buffered sample (object, path and label strings, bigint timestamp); the
 * live ring's serialised bytes per update.
 */
export const WORKER_MEMORY_MODEL = {
  baseMiB: 64,
  bytesPerBufferedSample: 320,
  ringBytesPerUpdate: 140,
  /** Seconds of updates the writer buffers while PostgreSQL is down before dropping the oldest. */
  bufferSeconds: 20,
  /** Seconds of committed batches the live ring keeps for replay (an API replica reconnecting). */
  ringSeconds: 10,
  /** Leaves one sample of a wildcard path is assumed to carry (a list of interfaces); 10 otherwise. */
  leavesPerWildcardPath: 200,
} as const;

export interface WorkerMemoryPlan {
  /** The rate the plan is for. */
  updatesPerSecond: number;
  requestBytes: number;
  limitBytes: number;
  /** V8: `--max-semi-space-size` (MiB). */
  semiSpaceMiB: number;
  /** V8: `--max-old-space-size` (MiB). */
  oldSpaceMiB: number;
  maxBufferedSamples: number;
  liveRingBytes: number;
}

/**
 * Updates per second a Device's subscriptions ask for: each sampled path at its interval, a
 * wildcard path counted as a list of `leavesPerWildcardPath` leaves, on-change paths as a
 * tenth of that per 10 s. The annotation, when set, replaces the estimate.
 */
export function expectedUpdatesPerSecond(spec: DeviceSpec, annotations: Record<string, string> = {}): number {
  const asked = Number(annotations[EXPECTED_RATE_ANNOTATION]);
  if (Number.isFinite(asked) && asked > 0) return asked;
  const m = WORKER_MEMORY_MODEL;
  let rate = 0;
  for (const s of spec.subscriptions ?? []) {
    const path = s.path ?? s.filter?.value ?? '';
    const leaves = path.includes('*') || s.filter ? m.leavesPerWildcardPath : 10;
    const interval = s.sampleInterval ?? s.interval ?? spec.pollInterval;
    const seconds = interval ? Math.max(0.001, safeSeconds(interval)) : 10;
    rate += s.mode === 'on-change' ? leaves / 100 : leaves / seconds;
  }
  return Math.ceil(rate);
}

function safeSeconds(duration: string): number {
  try {
    return parseDuration(duration) / 1000;
  } catch {
    return 10;
  }
}

/**
 * The plan for a rate; `limitBytes`, when the Device sets `resources.limits.memory`, is kept and
 * the buffers shrink to fit it. The young generation grows with the rate: at 100k updates/s a
 * worker allocates a few hundred MB/s of short-lived decode objects, and small semi-spaces then
 * scavenge so often that GC takes a third of its CPU; an idle worker needs only 1 MiB.
 */
export function workerMemoryPlan(updatesPerSecond: number, limitBytes?: number): WorkerMemoryPlan {
  const m = WORKER_MEMORY_MODEL;
  const rate = Math.max(1, updatesPerSecond);
  const semiSpaceMiB = rate <= 5_000 ? 1 : rate <= 30_000 ? 4 : 16;
  // V8 reserves three semi-spaces' worth for the young generation (two plus its large objects).
  const youngMiB = 3 * semiSpaceMiB;
  let maxBufferedSamples = clamp(Math.ceil(rate * m.bufferSeconds), 10_000, 300_000);
  let liveRingBytes = clamp(Math.ceil(rate * m.ringSeconds * m.ringBytesPerUpdate), 1 * MiB, 24 * MiB);
  const wanted = (m.baseMiB + youngMiB) * MiB + maxBufferedSamples * m.bytesPerBufferedSample + liveRingBytes;
  // A quarter of headroom over the sum, so the guard sheds before the kernel kills.
  let limit = limitBytes ?? roundUpMiB(wanted * 1.25, 16);
  const room = limit / 1.25 - (m.baseMiB + youngMiB) * MiB;
  if (limitBytes !== undefined && room < maxBufferedSamples * m.bytesPerBufferedSample + liveRingBytes) {
    // A limit smaller than the rate asks for: split what is left 3:1 between buffer and ring.
    const left = Math.max(4 * MiB, room);
    maxBufferedSamples = Math.max(1000, Math.floor((left * 0.75) / m.bytesPerBufferedSample));
    liveRingBytes = Math.max(1 * MiB, Math.floor(left * 0.25));
  }
  limit = Math.max(limit, 128 * MiB);
  // Old space: the limit less the young generation and ~24 MiB of code, stacks and native buffers.
  const oldSpaceMiB = Math.max(32, Math.floor(limit / MiB - youngMiB - 24));
  return {
    updatesPerSecond: rate,
    requestBytes: roundUpMiB(limit * 0.75, 8),
    limitBytes: limit,
    semiSpaceMiB,
    oldSpaceMiB,
    maxBufferedSamples,
    liveRingBytes,
  };
}

/** `NODE_OPTIONS` for a plan (both flags are allowed there). */
export function workerNodeOptions(plan: WorkerMemoryPlan): string {
  return `--max-semi-space-size=${plan.semiSpaceMiB} --max-old-space-size=${plan.oldSpaceMiB}`;
}

/** A Kubernetes quantity in bytes: `512Mi`, `1G`, `134217728`; undefined when not one. */
export function parseQuantityBytes(q: string | number | undefined): number | undefined {
  const value = q === undefined ? undefined : quantityValue(q);
  return value === undefined ? undefined : Math.round(value);
}

/** Bytes as a whole-MiB quantity (`192Mi`). */
export function mebibytes(bytes: number): string {
  return `${Math.ceil(bytes / MiB)}Mi`;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

function roundUpMiB(bytes: number, step: number): number {
  return Math.ceil(bytes / MiB / step) * step * MiB;
}
