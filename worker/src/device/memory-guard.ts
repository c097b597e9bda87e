/**
 * A watermark on the worker's memory, so that a worker near its limit sheds load (drops and
 * counts updates, reports Degraded) instead of being OOM-killed, which would lose the buffer and
 * the session and leave a gap for the restart. Pressure is the highest of three ratios:
 * the cgroup's working set to its limit (what the kubelet and the kernel judge), anonymous RSS to
 * the limit the operator planned (outside a container), and the V8 heap to its own cap (the
 * `--max-old-space-size` of the plan: a heap that hits it crashes the process however much
 * memory the container has left).
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { metrics } from '@opentelemetry/api';
import { log } from '@switchforge/platform/log';
import { WORKER_MEMORY_MODEL } from '@switchforge/platform/worker-memory';

export interface MemoryReading {
  /** Highest used/limit ratio of the three, and which one it was. */
  ratio: number;
  source: 'cgroup' | 'rss' | 'heap';
  usedBytes: number;
  limitBytes: number;
}

/** cgroup v2 `memory.current`/`memory.max`, or v1 usage/limit; working set = usage − inactive file. */
export function readCgroupMemory(root = '/sys/fs/cgroup'): { workingSet: number; limit: number } | undefined {
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const own = read('/proc/self/cgroup') ?? '';
  const v2 = /^0::(.*)$/m.exec(own)?.[1];
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(own)?.[1];
  const candidates: Array<{ dir: string; current: string; max: string; inactive: RegExp }> = [];
  if (v1 !== undefined) {
    for (const dir of [`${root}/memory${v1}`, `${root}/memory`]) {
      candidates.push({
        dir,
        current: 'memory.usage_in_bytes',
        max: 'memory.limit_in_bytes',
        inactive: /^total_inactive_file (\d+)$/m,
      });
    }
  }
  if (v2 !== undefined) {
    for (const dir of [`${root}${v2}`, root]) {
      candidates.push({
        dir,
        current: 'memory.current',
        max: 'memory.max',
        inactive: /^inactive_file (\d+)$/m,
      });
    }
  }
  for (const c of candidates) {
    const current = read(`${c.dir}/${c.current}`);
    const max = read(`${c.dir}/${c.max}`);
    if (current === undefined || max === undefined) continue;
    const limit = max === 'max' ? Infinity : Number(max);
    // cgroup v1 reports "no limit" as a page-rounded 2^63.
    if (!(limit > 0) || limit > 2 ** 60) return undefined;
    const inactive = Number(c.inactive.exec(read(`${c.dir}/memory.stat`) ?? '')?.[1] ?? 0);
    return { workingSet: Math.max(0, Number(current) - inactive), limit };
  }
  return undefined;
}

/**
 * Resident memory of this process's own (anonymous) pages. File-backed pages (the node binary,
 * ~40 MiB) are shared by every worker on a node and charged to a container once, not per pod.
 */
function anonymousRss(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0);
    return (kb('RssAnon') + kb('RssShmem')) * 1024;
  } catch {
    return process.memoryUsage.rss();
  }
}

export function readMemory(limitBytes: number): MemoryReading {
  const readings: MemoryReading[] = [];
  const cgroup = readCgroupMemory();
  // A cgroup much larger than the planned limit is not this worker's container (a developer's
  // session, a node slice shared with others): its usage says nothing about this process.
  if (cgroup && (limitBytes === 0 || cgroup.limit <= limitBytes * 1.5)) {
    readings.push({
      ratio: cgroup.workingSet / cgroup.limit,
      source: 'cgroup',
      usedBytes: cgroup.workingSet,
      limitBytes: cgroup.limit,
    });
  }
  if (limitBytes > 0) {
    const rss = anonymousRss();
    readings.push({ ratio: rss / limitBytes, source: 'rss', usedBytes: rss, limitBytes });
  }
  readings.push(heapReading());
  return readings.reduce((a, b) => (b.ratio > a.ratio ? b : a));
}

/**
 * The whole heap against the old generation's cap. Young objects count too: a buffered sample
 * is born there and promoted at its second scavenge, up to a semi-space (16 MiB) at once, so a
 * reading of the old space alone trails a filling buffer by that much. The cap is the old
 * generation's (V8's heap_size_limit adds the young generation's reserve, which never fills
 * with survivors, so with a small cap the heap would die before used/limit came near a
 * watermark).
 */
function heapReading(): MemoryReading {
  const heap = getHeapStatistics();
  const capMiB = oldSpaceCapMiB();
  const limitBytes = capMiB ? capMiB * 2 ** 20 : heap.heap_size_limit;
  const usedBytes = heap.used_heap_size;
  return { ratio: usedBytes / limitBytes, source: 'heap', usedBytes, limitBytes };
}

let oldSpaceCap: number | undefined | null = null;
function oldSpaceCapMiB(): number | undefined {
  if (oldSpaceCap === null) {
    const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
    const matches = [...flags.matchAll(/--max[-_]old[-_]space[-_]size[= ](\d+)/g)];
    oldSpaceCap = matches.length > 0 ? Number(matches[matches.length - 1]![1]) : undefined;
  }
  return oldSpaceCap;
}

export interface MemoryGuardOptions {
  /** The container limit the operator planned (SWITCHFORGE_MEMORY_LIMIT_BYTES); 0: none. */
  limitBytes: number;
  /** Shedding starts above this ratio... */
  highRatio?: number;
  /** ...and stops below this one. */
  lowRatio?: number;
  intervalMs?: number;
  /**
   * Also check after this many samples were buffered since the last check (default 20,000), so
   * that a burst between two timer ticks cannot fill the heap from the watermark to its cap.
   * Nearer the watermark the checks come sooner: after a quarter of the samples that would fill
   * the headroom left at `bytesPerSample`.
   */
  checkEverySamples?: number;
  /** What one buffered sample costs (default: the plan's model, WORKER_MEMORY_MODEL). */
  bytesPerSample?: number;
  /** Called on each change; `on` sheds. */
  onPressure: (on: boolean, reading: MemoryReading) => void;
  read?: (limitBytes: number) => MemoryReading;
}

const meter = metrics.getMeter('switchforge-worker');
const pressureGauge = meter.createObservableGauge('switchforge.worker.memory.pressure', {
  description: 'Highest of working set / cgroup limit, RSS / planned limit and V8 heap / its cap',
});

export class MemoryGuard {
  private timer: NodeJS.Timeout | undefined;
  private on = false;
  private last: MemoryReading | undefined;
  private sinceCheck = 0;
  /** Samples to buffer before the next check; 0 until the first one. */
  private nextCheckAfter = 0;

  constructor(private readonly options: MemoryGuardOptions) {
    pressureGauge.addCallback((r) => {
      if (this.last) r.observe(this.last.ratio, { source: this.last.source });
    });
  }

  get shedding(): boolean {
    return this.on;
  }

  get reading(): MemoryReading | undefined {
    return this.last;
  }

  /** Counts samples about to be buffered; checks once enough have come since the last check. */
  noteBuffered(samples: number): void {
    this.sinceCheck += samples;
    if (this.sinceCheck >= this.nextCheckAfter) this.check();
  }

  private planNextCheck(reading: MemoryReading): void {
    const every = this.options.checkEverySamples ?? 20_000;
    const headroom = Math.max(0, ((this.options.highRatio ?? 0.85) - reading.ratio) * reading.limitBytes);
    const perSample = this.options.bytesPerSample ?? WORKER_MEMORY_MODEL.bytesPerBufferedSample;
    this.nextCheckAfter = Math.min(every, Math.max(500, Math.floor(headroom / perSample / 4)));
  }

  /** One check now (also run every `intervalMs` once started). */
  check(): MemoryReading {
    this.sinceCheck = 0;
    const { highRatio = 0.85, lowRatio = 0.7 } = this.options;
    const reading = (this.options.read ?? readMemory)(this.options.limitBytes);
    this.last = reading;
    this.planNextCheck(reading);
    const next = this.on ? reading.ratio > lowRatio : reading.ratio > highRatio;
    if (next !== this.on) {
      this.on = next;
      const fields = {
        source: reading.source,
        usedMiB: Math.round(reading.usedBytes / 2 ** 20),
        limitMiB: Math.round(reading.limitBytes / 2 ** 20),
      };
      if (next) log.warn('memory near its limit: shedding updates', fields);
      else log.info('memory back under the watermark: buffering again', fields);
      this.options.onPressure(next, reading);
    }
    return reading;
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
