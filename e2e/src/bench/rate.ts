import { setTimeout as sleep } from 'node:timers/promises';

export interface CountSample {
  /** When the count was read (ms, monotonic). */
  readonly atMs: number;
  readonly count: number;
}

/**
 * Steady-state rate over a series of counts: (last - first) / elapsed, over the samples taken
 * at or after `fromMs`, so that a warm-up (connect, initial sync, JIT) does not dilute it.
 */
export function steadyRate(samples: readonly CountSample[], fromMs = -Infinity): number {
  const window = samples.filter((s) => s.atMs >= fromMs);
  if (window.length < 2) return 0;
  const first = window[0]!;
  const last = window.at(-1)!;
  const seconds = (last.atMs - first.atMs) / 1000;
  return seconds > 0 ? (last.count - first.count) / seconds : 0;
}

export interface RateMeasurement {
  /** Per second over the measured window. */
  rate: number;
  /** Count at the end of the window. */
  total: number;
  windowSeconds: number;
  samples: CountSample[];
}

/**
 * Polls `count` until it first moves (or `startTimeoutMs`), waits `warmupMs`, then measures for
 * `windowMs`. Each read is stamped at its midpoint, since a count over a large table takes time.
 */
export async function measureRate(options: {
  count: () => Promise<number>;
  warmupMs: number;
  windowMs: number;
  pollMs?: number;
  startTimeoutMs?: number;
  /** The first count moved: the consumer is running. */
  onFirstRows?: () => void;
  /** Warm-up over: the measured window begins. */
  onWindowStart?: () => void;
  onProgress?: (sample: CountSample, ratePerSecond: number) => void;
}): Promise<RateMeasurement> {
  const pollMs = options.pollMs ?? 1000;
  const read = async (): Promise<CountSample> => {
    const t0 = performance.now();
    const count = await options.count();
    return { atMs: (t0 + performance.now()) / 2, count };
  };
  const initial = await read();
  const startDeadline = performance.now() + (options.startTimeoutMs ?? 60_000);
  let latest = initial;
  while (latest.count === initial.count) {
    if (performance.now() > startDeadline)
      throw new Error(`no rows arrived within ${options.startTimeoutMs ?? 60_000} ms`);
    await sleep(250);
    latest = await read();
  }
  options.onFirstRows?.();
  const samples: CountSample[] = [latest];
  const windowStart = latest.atMs + options.warmupMs;
  const end = windowStart + options.windowMs;
  let inWindow = false;
  while (latest.atMs < end) {
    await sleep(pollMs);
    const previous = latest;
    latest = await read();
    samples.push(latest);
    if (!inWindow && latest.atMs >= windowStart) {
      inWindow = true;
      options.onWindowStart?.();
    }
    options.onProgress?.(latest, steadyRate([previous, latest]));
  }
  const window = samples.filter((s) => s.atMs >= windowStart);
  return {
    rate: steadyRate(samples, windowStart),
    total: latest.count,
    windowSeconds: window.length > 1 ? (window.at(-1)!.atMs - window[0]!.atMs) / 1000 : 0,
    samples,
  };
}
