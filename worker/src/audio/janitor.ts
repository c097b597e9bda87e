import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '@switchforge/platform/errors';
import { JOBS_DIR } from './storage.js';
import type { JobStorage } from './storage.js';

export interface SweepOptions {
  readonly storage: JobStorage;
  /** Uids of AudioJobs that exist now (from the operator's informer cache). */
  readonly liveUids: ReadonlySet<string>;
  /** A prefix younger than this is kept: its job may not have reached the cache yet. */
  readonly minAgeMs: number;
  readonly now?: number;
}

/**
 * One sweep: removes the prefixes of jobs that no longer exist (a deletion whose finalizer never
 * ran, files written after the cleanup, entries that are not job uids at all).
 */
export async function sweepOrphans(opts: SweepOptions): Promise<string[]> {
  const now = opts.now ?? Date.now();
  const removed: string[] = [];
  for (const { uid, mtimeMs } of await opts.storage.listJobs()) {
    if (opts.liveUids.has(uid) || now - mtimeMs < opts.minAgeMs) continue;
    await rm(join(opts.storage.root, JOBS_DIR, uid), { recursive: true, force: true });
    removed.push(uid);
  }
  return removed;
}

export interface JanitorOptions extends Omit<SweepOptions, 'liveUids' | 'now'> {
  readonly intervalMs: number;
  readonly listLiveUids: () => Promise<ReadonlySet<string>>;
  readonly onSweep?: (removed: string[]) => void;
  readonly onError?: (message: string) => void;
}

/** Sweeps every `intervalMs` until the returned stop function is called. */
export function startJanitor(opts: JanitorOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      const removed = await sweepOrphans({ ...opts, liveUids: await opts.listLiveUids() });
      opts.onSweep?.(removed);
    } catch (e) {
      opts.onError?.(errorMessage(e));
    }
    if (!stopped) timer = setTimeout(() => void tick(), opts.intervalMs);
  };
  timer = setTimeout(() => void tick(), opts.intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
