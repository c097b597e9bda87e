/**
 * The one retry delay of the project: exponential, capped, with "equal jitter" (AWS
 * architecture blog): the n-th retry waits a uniform random time in [c/2, c], where
 * c = min(cap, base · 2^n). Half the ceiling is kept, so a retry is never much sooner than
 * its attempt warrants (requeue timing stays predictable); the other half is spread, so that
 * many workers reconnecting to one switch, database or apiserver do not retry in lockstep.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** [0, 1); tests pin it. */
  random?: () => number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(
  attempt: number,
  { baseMs, capMs, random = Math.random }: BackoffOptions,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** A retry loop's state: `next()` gives the next delay, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  next(): number {
    return backoffDelay(this.attempt++, this.options);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
