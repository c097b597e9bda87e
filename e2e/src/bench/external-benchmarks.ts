/**
 * The benchmarks that live beside their code and print their own figures: the NETCONF session
 * (e2e/src/bench/netconf-session.ts), the Python analyzer (python-workers/bench_analyzer.py) and, when
 * present, the API's (e2e/src/bench/api/). They are run as their owners run them; their output is
 * parsed into figures.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';
import { ensureVenvPython } from '../audio/venv-python.js';
import type * as ApiBench from './api/index.js';
import { formatRate, formatSeconds, type Figure } from './figures.js';

type ApiBenchModule = typeof ApiBench;

export interface NetconfFigures {
  interfaces: number;
  leaves: number;
  worker: number;
  ncclient: number;
}

/** Reads the lines e2e/src/bench/netconf-session.ts prints. */
export function parseNetconfOutput(stdout: string): NetconfFigures {
  const reply = /reply: (\d+) interfaces, (\d+) leaves/.exec(stdout);
  const worker = /^worker\s*: (\d+(?:\.\d+)?) leaves\/s/m.exec(stdout);
  const ncclient = /^ncclient\s*: (\d+(?:\.\d+)?) leaves\/s/m.exec(stdout);
  if (!reply || !worker || !ncclient) throw new Error(`unexpected NETCONF benchmark output:\n${stdout}`);
  return {
    interfaces: Number(reply[1]),
    leaves: Number(reply[2]),
    worker: Number(worker[1]),
    ncclient: Number(ncclient[1]),
  };
}

export interface AnalyzerFigures {
  minutes: number;
  inProcessPerMinute: number;
  cliPerMinute: number;
}

/** Reads the lines python-workers/bench_analyzer.py prints. */
export function parseAnalyzerOutput(stdout: string): AnalyzerFigures {
  const audio = /audio: (\d+(?:\.\d+)?) min/.exec(stdout);
  const inProcess = /in-process analysis: (\d+(?:\.\d+)?) s per minute/.exec(stdout);
  const cli = /CLI process \(startup included\): (\d+(?:\.\d+)?) s per minute/.exec(stdout);
  if (!audio || !inProcess || !cli) throw new Error(`unexpected analyzer benchmark output:\n${stdout}`);
  return {
    minutes: Number(audio[1]),
    inProcessPerMinute: Number(inProcess[1]),
    cliPerMinute: Number(cli[1]),
  };
}

export async function runNetconfBenchmark(options: {
  interfaces: number;
  rounds: number;
  timeoutMs: number;
}): Promise<Figure[]> {
  const r = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'e2e/src/bench/netconf-session.ts'),
      String(options.interfaces),
      String(options.rounds),
    ],
    { cwd: repoRoot, timeoutMs: options.timeoutMs },
  );
  if (r.code !== 0)
    throw new Error(
      `e2e/src/bench/netconf-session.ts exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`,
    );
  const f = parseNetconfOutput(r.stdout);
  return [
    {
      benchmark: 'netconf',
      figure: `<get> of ${f.interfaces} interfaces (${f.leaves} leaves) → samples, best of ${options.rounds}`,
      value: formatRate(f.worker, 'leaves/s'),
      comparison: `${(f.worker / f.ncclient).toFixed(2)}x ncclient (${formatRate(f.ncclient, 'leaves/s')})`,
    },
  ];
}

const ANALYZER_GOAL_S_PER_MIN = 5;

export async function runAnalyzerBenchmark(options: {
  minutes: number;
  repeat: number;
  timeoutMs: number;
}): Promise<Figure[]> {
  const r = await run(
    await ensureVenvPython(options.timeoutMs),
    [
      join(repoRoot, 'python-workers/bench_analyzer.py'),
      '--minutes',
      String(options.minutes),
      '--repeat',
      String(options.repeat),
    ],
    { cwd: join(repoRoot, 'python-workers'), timeoutMs: options.timeoutMs },
  );
  if (r.code !== 0)
    throw new Error(`bench_analyzer.py exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
  const f = parseAnalyzerOutput(r.stdout);
  const verdict = (s: number) => (s < ANALYZER_GOAL_S_PER_MIN ? 'meets goal' : 'misses goal');
  return [
    {
      benchmark: 'analyzer',
      figure: `analysis, all features (${f.minutes} min track, in process)`,
      value: `${formatSeconds(f.inProcessPerMinute)} per min of audio`,
      goal: `< ${ANALYZER_GOAL_S_PER_MIN} s per min`,
      comparison: verdict(f.inProcessPerMinute),
    },
    {
      benchmark: 'analyzer',
      figure: 'analysis as the worker spawns it (startup included)',
      value: `${formatSeconds(f.cliPerMinute)} per min of audio`,
      goal: `< ${ANALYZER_GOAL_S_PER_MIN} s per min`,
      comparison: verdict(f.cliPerMinute),
    },
  ];
}

/**
 * The API's benchmarks (e2e/src/bench/api/index.ts, `runApiBenchmarks`): live commit-to-receipt
 * latency per graphql-ws subscriber count, and the series query on a large table. Undefined when
 * that module is not there.
 */
export async function runApiBenchmarks(options: {
  kubeconfig: string;
  postgresDsn: string;
  seriesRows?: number;
  progress: (line: string) => void;
}): Promise<Figure[] | undefined> {
  const entry = join(repoRoot, 'e2e/src/bench/api/index.ts');
  if (!existsSync(entry)) return undefined;
  const api = (await import(pathToFileURL(entry).href)) as ApiBenchModule;
  const results = await api.runApiBenchmarks({
    kubeconfig: options.kubeconfig,
    postgresDsn: options.postgresDsn,
    ...(options.seriesRows ? { seriesRows: options.seriesRows } : {}),
    log: (line) => options.progress(`  ${line}`),
  });
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const thousands = (n: number) => n.toLocaleString('en-US');
  return [
    ...results.live.map((r) => ({
      benchmark: 'api',
      figure: `live: commit → receipt, ${thousands(r.subscribers)} graphql-ws subscriber(s), 1 replica`,
      value: `p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}`,
      // Below 1,000 subscribers the RSS difference is smaller than the heap's own swings.
      comparison: `max ${ms(r.maxMs)}; fan-out ${formatRate(r.fanoutPerSecond, 'msgs/s')}${r.subscribers >= 1000 ? `; ${r.rssPer1000SubscribersMiB.toFixed(1)} MiB RSS per 1,000 subscribers` : ''}`,
    })),
    {
      benchmark: 'api',
      figure: `series query: 24 h of one series → ${thousands(results.series.points)} points, table of ${thousands(results.series.rows)} rows`,
      value: `p50 ${ms(results.series.p50Ms)}, p99 ${ms(results.series.p99Ms)}`,
    },
  ];
}
