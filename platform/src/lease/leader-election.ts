import { setTimeout as sleep } from 'node:timers/promises';
import type { LeaseLock } from './lease-lock.js';

export interface LeaderElectionOptions {
  lock: LeaseLock;
  /** How often a candidate tries, and a leader renews. */
  retryPeriodMs: number;
  /** A leader that has not renewed for this long steps down (before the lease can expire). */
  renewDeadlineMs: number;
  onError?: (error: unknown) => void;
}

/**
 * Runs `lead` while this process holds the lease, as client-go's leaderelection does: waits to
 * acquire, renews every retry period, and aborts `lead`'s signal when it cannot renew in time or
 * when `signal` aborts (then releases the lease). Resolves after leadership ends.
 */
export async function runWithLeaderElection(
  options: LeaderElectionOptions,
  signal: AbortSignal,
  lead: (leading: AbortSignal) => Promise<void>,
): Promise<'lost' | 'stopped'> {
  const { lock, retryPeriodMs, renewDeadlineMs } = options;
  while (!signal.aborted) {
    try {
      const outcome = await lock.tryAcquireOrRenew();
      if (outcome.held) break;
    } catch (e) {
      options.onError?.(e);
    }
    await sleep(retryPeriodMs, undefined, { signal }).catch(() => undefined);
  }
  if (signal.aborted) return 'stopped';

  const leading = new AbortController();
  const onStop = () => leading.abort();
  signal.addEventListener('abort', onStop, { once: true });
  const leadDone = lead(leading.signal);
  let lastRenew = Date.now();
  let result: 'lost' | 'stopped' = 'stopped';
  while (!leading.signal.aborted) {
    await sleep(retryPeriodMs, undefined, { signal: leading.signal }).catch(() => undefined);
    if (leading.signal.aborted) break;
    try {
      const outcome = await lock.tryAcquireOrRenew();
      if (outcome.held) lastRenew = Date.now();
      else {
        result = 'lost';
        leading.abort();
      }
    } catch (e) {
      options.onError?.(e);
      if (Date.now() - lastRenew > renewDeadlineMs) {
        result = 'lost';
        leading.abort();
      }
    }
  }
  signal.removeEventListener('abort', onStop);
  await leadDone;
  if (result === 'stopped') await lock.release().catch((e: unknown) => options.onError?.(e));
  return result;
}
