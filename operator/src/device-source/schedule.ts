/**
 * When a source of Devices (DeviceDiscovery, DeviceInventory) runs next. Pure.
 */
import { parseDuration, type Condition } from '@switchforge/platform/crd';

/** A run that could not start or failed is tried again after at most this long (a Secret may appear). */
export const FAILED_RETRY_MS = 60_000;

/** What a source's schedule is read from: its generation, spec.schedule and status. */
export interface ScheduledSource {
  metadata: { generation?: number };
  spec: { schedule: { every: string } };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

/**
 * Milliseconds until the next run: none (0) for a source never run (no `lastRun`, RFC 3339) or
 * changed since its last run, else what is left of `schedule.every` (at most FAILED_RETRY_MS
 * after a failed run, Ready False) after lastRun.
 */
export function nextRunInMs(source: ScheduledSource, lastRun: string | undefined, now: Date): number {
  if (!lastRun || source.status?.observedGeneration !== source.metadata.generation) return 0;
  const every = parseDuration(source.spec.schedule.every);
  const failed = lastRunFailed(source.status?.conditions);
  const due = Date.parse(lastRun) + (failed ? Math.min(every, FAILED_RETRY_MS) : every);
  return Math.max(0, due - now.getTime());
}

/** How long to wait after a failed run. */
export function retryAfterFailureMs(every: string): number {
  return Math.min(parseDuration(every), FAILED_RETRY_MS);
}

/** Whether a source's Ready condition says its last run failed. */
export function lastRunFailed(conditions: readonly Condition[] | undefined): boolean {
  return conditions?.find((c) => c.type === 'Ready')?.status === 'False';
}
