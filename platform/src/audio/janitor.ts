import { errorMessage } from '../errors.js';
import type { AudioStore } from './store/audio-store.js';
import { NAMESPACES_DIR, jobOfKey, jobPrefix } from './storage-layout.js';

export interface SweepOptions {
  readonly store: AudioStore;
  /** Uids of AudioJobs that exist now (from the operator's informer cache). */
  readonly liveUids: ReadonlySet<string>;
  /** A prefix whose newest file is younger than this is kept: its job may not be in the cache yet. */
  readonly minAgeMs: number;
  readonly now?: number;
}

/** Bytes and files (objects) stored per namespace, job files and inputs together. */
export type StorageUsage = Map<string, { bytes: number; objects: number }>;

export interface SweepResult {
  /** `<namespace>/<uid>` of every job prefix removed. */
  readonly removed: string[];
  /** What is stored after the sweep. */
  readonly usage: StorageUsage;
}

/**
 * One sweep over every namespace's area, volume or bucket alike: removes the prefixes of jobs that
 * no longer exist (a deletion whose finalizer never ran, files written after the cleanup) and
 * measures what stays.
 */
export async function sweepOrphans(opts: SweepOptions): Promise<SweepResult> {
  const now = opts.now ?? Date.now();
  const usage: StorageUsage = new Map();
  const jobs = new Map<
    string,
    { namespace: string; uid: string; newest: number; bytes: number; objects: number }
  >();
  for await (const o of opts.store.list(NAMESPACES_DIR)) {
    const namespace = o.key.split('/')[1] ?? '';
    const u = usage.get(namespace) ?? { bytes: 0, objects: 0 };
    usage.set(namespace, { bytes: u.bytes + o.bytes, objects: u.objects + 1 });
    const job = jobOfKey(o.key);
    if (!job) continue;
    const id = `${job.namespace}/${job.uid}`;
    const j = jobs.get(id) ?? { ...job, newest: 0, bytes: 0, objects: 0 };
    jobs.set(id, {
      ...j,
      newest: Math.max(j.newest, o.mtimeMs),
      bytes: j.bytes + o.bytes,
      objects: j.objects + 1,
    });
  }
  const removed: string[] = [];
  for (const [id, j] of jobs) {
    if (opts.liveUids.has(j.uid) || now - j.newest < opts.minAgeMs) continue;
    await opts.store.removePrefix(jobPrefix(j.namespace, j.uid));
    removed.push(id);
    const u = usage.get(j.namespace)!;
    usage.set(j.namespace, { bytes: u.bytes - j.bytes, objects: u.objects - j.objects });
  }
  return { removed: removed.sort(), usage };
}

export interface JanitorOptions extends Omit<SweepOptions, 'liveUids' | 'now'> {
  readonly intervalMs: number;
  readonly listLiveUids: () => Promise<ReadonlySet<string>>;
  readonly onSweep?: (result: SweepResult) => void;
  readonly onError?: (message: string) => void;
}

/** Sweeps every `intervalMs` (the first one at once) until the returned stop function is called. */
export function startJanitor(opts: JanitorOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      opts.onSweep?.(await sweepOrphans({ ...opts, liveUids: await opts.listLiveUids() }));
    } catch (e) {
      opts.onError?.(errorMessage(e));
    }
    if (!stopped) timer = setTimeout(() => void tick(), opts.intervalMs);
  };
  timer = setTimeout(() => void tick(), 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
