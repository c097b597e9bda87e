import { readdirSync, readFileSync } from 'node:fs';

/** VmRSS from the text of /proc/<pid>/status, in bytes; undefined when absent (a zombie). */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Resident set size of a live process, in bytes; undefined once it has gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface MemoryBreakdown {
  rss: number;
  /** Anonymous pages: the process's own heap, stacks and buffers. */
  anon: number;
  /**
   * Proportional set size: shared file pages (the node binary) divided among the processes that
   * map them, which is what one more such process costs a node running many.
   */
  pss: number;
}

/** RssAnon from /proc/<pid>/status and Pss from smaps_rollup, in bytes. */
export function parseMemoryBreakdown(status: string, smapsRollup: string): MemoryBreakdown | undefined {
  const kb = (text: string, field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const rss = kb(status, 'VmRSS');
  const anon = kb(status, 'RssAnon');
  const pss = kb(smapsRollup, 'Pss');
  return rss === undefined || anon === undefined || pss === undefined ? undefined : { rss, anon, pss };
}

export function memoryBreakdown(pid: number): MemoryBreakdown | undefined {
  try {
    return parseMemoryBreakdown(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
      readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'),
    );
  } catch {
    return undefined;
  }
}

export interface RssSummary {
  peak: number;
  last: number;
  samples: number;
}

/** Samples a process's RSS on an interval, so that a short peak between reads is not missed. */
export class RssSampler {
  private peak = 0;
  private last = 0;
  private samples = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (rss === undefined) return;
    this.last = rss;
    this.peak = Math.max(this.peak, rss);
    this.samples++;
  }

  stop(): RssSummary {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return { peak: this.peak, last: this.last, samples: this.samples };
  }
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux everywhere it matters). */
const CLK_TCK = 100;

/** utime + stime (fields 14 and 15) from the text of /proc/<pid>/stat, in seconds, all threads. */
export function parseCpuSeconds(stat: string): number | undefined {
  // The command name (field 2) may hold spaces and parentheses: fields count from its last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLK_TCK : undefined;
}

export function cpuSeconds(pid: number): number | undefined {
  try {
    return parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The direct children of a process (a PostgreSQL postmaster's backends), by scanning /proc. */
export function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * CPU used by a set of processes over an interval, in cores (1.0 = one core busy throughout):
 * on a machine with few cores it tells which process was the bottleneck.
 */
export class CpuMeter {
  private startedAt = 0;
  private readonly before = new Map<number, number>();

  constructor(private readonly pids: () => readonly number[]) {}

  start(): this {
    this.startedAt = performance.now();
    for (const pid of this.pids()) this.before.set(pid, cpuSeconds(pid) ?? 0);
    return this;
  }

  /** Cores used since start(); a process that appeared meanwhile counts from its birth. */
  stop(): number {
    const seconds = (performance.now() - this.startedAt) / 1000;
    let used = 0;
    for (const pid of this.pids()) {
      const now = cpuSeconds(pid);
      if (now !== undefined) used += now - (this.before.get(pid) ?? 0);
    }
    return seconds > 0 ? used / seconds : 0;
  }
}
