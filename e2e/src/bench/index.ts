/**
 * `npm run bench [-- ingest|operator|netconf|analyzer|separator|api|audio ...] [--window 20] [--rate 400000] [--devices 1000]
 *    [--series-rows N] [--audio-seconds 60] [--separator-seconds 20]`
 *
 * Runs the benchmarks (all when none is named) and prints one table: figure, value, goal and
 * comparison. Figures, not timed tests: a missed goal is reported, not failed; a benchmark that
 * cannot run is reported as failed and makes the exit code 1. The ingest and operator benchmarks
 * get dedicated PostgreSQL and Kubernetes servers, started here and stopped at the end.
 */
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installCrds } from '../harness/platform-under-test.js';
import { useInfra, type Infra } from '@switchforge/testkit';
import { runAccuracyBenchmark } from './analyzer-accuracy.js';
import { AUDIO_DEFAULTS, runAudioPipelineBenchmark } from './audio-pipeline.js';
import { runAnalyzerBenchmark, runApiBenchmarks, runNetconfBenchmark } from './external-benchmarks.js';
import { formatTable, type Figure } from './figures.js';
import { INGEST_DEFAULTS, runIngestBenchmark } from './ingest.js';
import { OPERATOR_DEFAULTS, runOperatorBenchmark } from './operator-scale.js';
import { runSeparatorBenchmark } from './separator.js';

const BENCHMARKS = ['netconf', 'analyzer', 'separator', 'audio', 'ingest', 'operator', 'api'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    window: { type: 'string', default: String(INGEST_DEFAULTS.windowMs / 1000) },
    rate: { type: 'string', default: String(INGEST_DEFAULTS.offeredRate) },
    devices: { type: 'string', default: String(OPERATOR_DEFAULTS.devices) },
    'series-rows': { type: 'string' },
    'audio-seconds': { type: 'string', default: String(AUDIO_DEFAULTS.seconds) },
    'separator-seconds': { type: 'string', default: '20' },
  },
});

const unknown = positionals.filter((p) => !(BENCHMARKS as readonly string[]).includes(p));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
const selected: readonly Benchmark[] =
  positionals.length > 0 ? BENCHMARKS.filter((b) => positionals.includes(b)) : BENCHMARKS;

const started = performance.now();
const progress = (line: string) =>
  console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const logDir = mkdtempSync(join(tmpdir(), 'switchforge-bench-'));
const figures: Figure[] = [];
let failed = false;
let infra: Infra | undefined;

async function section(name: Benchmark, body: () => Promise<Figure[] | undefined>): Promise<void> {
  if (!selected.includes(name)) return;
  progress(`${name}: start`);
  try {
    const result = await body();
    if (result === undefined) {
      figures.push({ benchmark: name, figure: '(not run)', value: 'not available yet' });
    } else {
      figures.push(...result);
      for (const f of result)
        progress(`${name}: ${f.figure}: ${f.value}${f.comparison ? ` (${f.comparison})` : ''}`);
    }
  } catch (e) {
    failed = true;
    const message = e instanceof Error ? e.message : String(e);
    progress(`${name}: FAILED: ${message}`);
    figures.push({ benchmark: name, figure: '(failed)', value: message.split('\n')[0]!.slice(0, 160) });
  }
}

async function needInfra(): Promise<Infra> {
  if (!infra) {
    progress(
      'starting dedicated PostgreSQL and Kubernetes (etcd, kube-apiserver, controller-manager, scheduler, kwok)',
    );
    infra = await useInfra({ kubernetes: true, postgres: true }, { dedicated: true });
  }
  return infra;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping`);
    void (infra?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const machine = () =>
  `${cpus().length} CPU(s), ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()[0]!.toFixed(1)}`;
progress(`benchmarks: ${selected.join(', ')}; ${machine()}; logs in ${logDir}`);
try {
  // The self-contained ones first, before the control plane adds its background load.
  await section('netconf', () => runNetconfBenchmark({ interfaces: 40_000, rounds: 3, timeoutMs: 300_000 }));
  await section('analyzer', async () => [
    ...(await runAnalyzerBenchmark({ minutes: 1, repeat: 2, timeoutMs: 300_000 })),
    ...(await runAccuracyBenchmark({ timeoutMs: 600_000, progress })),
  ]);
  await section('separator', () =>
    runSeparatorBenchmark({ seconds: Number(values['separator-seconds']), timeoutMs: 900_000 }),
  );
  await section('audio', () =>
    runAudioPipelineBenchmark({ ...AUDIO_DEFAULTS, seconds: Number(values['audio-seconds']), progress }),
  );
  await section('ingest', async () =>
    runIngestBenchmark(await needInfra(), {
      ...INGEST_DEFAULTS,
      offeredRate: Number(values.rate),
      windowMs: Number(values.window) * 1000,
      logDir,
      progress,
    }),
  );
  await section('operator', async () =>
    runOperatorBenchmark(await needInfra(), {
      ...OPERATOR_DEFAULTS,
      devices: Number(values.devices),
      logDir,
      progress,
    }),
  );
  await section('api', async () => {
    const i = await needInfra();
    await installCrds(i);
    return runApiBenchmarks({
      kubeconfig: i.kubernetes.kubeconfig,
      postgresDsn: i.postgres.dsn,
      ...(values['series-rows'] ? { seriesRows: Number(values['series-rows']) } : {}),
      progress,
    });
  });
} finally {
  if (infra) {
    progress('stopping the dedicated servers');
    await infra.stop();
  }
}

console.log(`\nswitchforge benchmarks (${machine()} at the end; logs: ${logDir})\n`);
console.log(formatTable(figures));
process.exit(failed ? 1 : 0);
