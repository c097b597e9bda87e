/**
 * The audio pipeline's cost over its work, on the same synthesized WAV (60 s stereo 44.1 kHz by
 * default) and the same Demucs separation (`demucs_unittest`, the one model available offline,
 * CPU, all stems):
 * - direct: one plain `python -m switchforge_audio.separator` process (imports demucs, decodes,
 *   separates, writes the stems), timed from spawn to exit;
 * - pipeline: an AudioJob workflow with the separate stage only, on a dedicated Temporal dev
 *   server with the audio workers in this process: download (the file is in storage: checked and
 *   hashed), separate (the same Python command), finish; timed from start to the result.
 * Both Python runs print the same span lines. Each round runs one of each, alternating which goes
 * first, so background load drifts into both alike; the overhead is the median of the rounds'
 * paired overheads, and the fixed cost is reported in seconds too, so a longer clip cannot hide it. Each pipeline run's trace (an in-memory exporter)
 * says where its time goes: Temporal's hand-overs, each activity, Python's start-up and phases.
 */
import { synthWav } from '../audio/synth-wav.js';
import { ensureVenvPython } from '../audio/venv-python.js';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '@switchforge/worker/audio/activities';
import { startAudioJob } from '@switchforge/platform/audio/client';
import { DEFAULT_HTTP_LIMITS } from '@switchforge/worker/audio/sources/http';
import { jobPrefix, namespaceArea } from '@switchforge/platform/audio/storage-layout';
import { MemoryResultSink } from '@switchforge/worker/audio/test-support/memory-sink';
import { traceContextClientInterceptor } from '@switchforge/platform/audio/trace-client-interceptor';
import { bundleAudioWorkflows, runAudioWorkers } from '@switchforge/worker/audio/worker';
import { repoRoot } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';
import { useInfra } from '@switchforge/testkit';
import { formatSeconds, type Figure } from './figures.js';

const MODEL = 'demucs_unittest';
const OVERHEAD_GOAL_PERCENT = 5;
const pythonWorkers = join(repoRoot, 'python-workers');

export const AUDIO_DEFAULTS = { seconds: 60, rounds: 5, timeoutMs: 600_000 } as const;

export interface AudioBenchOptions {
  readonly seconds: number;
  readonly rounds: number;
  /** Per step: setup.sh, one separation, one workflow. */
  readonly timeoutMs: number;
  readonly progress: (line: string) => void;
}

async function timed(body: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await body();
  return (performance.now() - t0) / 1000;
}

export async function runAudioPipelineBenchmark(options: AudioBenchOptions): Promise<Figure[]> {
  const { seconds, rounds, timeoutMs, progress } = options;
  const python = await ensureVenvPython(timeoutMs);
  const workDir = await mkdtemp(join(tmpdir(), 'switchforge-audio-bench-'));
  const storageRoot = join(workDir, 'storage');
  await mkdir(join(storageRoot, namespaceArea('bench'), 'in'), { recursive: true });
  const wav = join(storageRoot, namespaceArea('bench'), 'in', 'bench.wav');
  await writeFile(wav, synthWav(seconds));

  progress(`audio: starting a dedicated Temporal dev server; ${seconds} s stereo 44.1 kHz WAV`);
  const infra = await useInfra({ temporal: true }, { dedicated: true });
  // Worker logs at WARN would interleave with the progress lines.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
  const connection = await Connection.connect({ address: infra.temporal.address });
  // An in-memory trace of each job says where its time goes (the workers' spans, Python's phases).
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  let workers: Awaited<ReturnType<typeof runAudioWorkers>> | undefined;
  try {
    // Bundled once, before timing: a worker bundles at start otherwise.
    const workflowBundle = await bundleAudioWorkflows(new DefaultLogger('WARN'));
    const activities = createActivities({
      storageRoot,
      pythonPath: python,
      pythonCwd: pythonWorkers,
      httpLimits: DEFAULT_HTTP_LIMITS,
      resultSink: new MemoryResultSink(),
    });
    // The separate activity timed inside the worker: the rest of a job's wall time is the
    // pipeline's own (Temporal round trips, download stage, finish), measured within one run.
    let separateActivityS = 0;
    const timedActivities = {
      ...activities,
      separate: async (input: Parameters<typeof activities.separate>[0]) => {
        const t0 = performance.now();
        try {
          return await activities.separate(input);
        } finally {
          separateActivityS = (performance.now() - t0) / 1000;
        }
      },
    };
    workers = await runAudioWorkers({
      connection: nativeConnection,
      namespace: infra.temporal.namespace,
      queuePrefix: `bench-${randomUUID().slice(0, 8)}-`,
      workflowBundle,
      activities: timedActivities,
    });
    // The workflow start carries the bench's span, so each job's spans form one trace to read.
    const client = new Client({
      connection,
      namespace: infra.temporal.namespace,
      interceptors: { workflow: [traceContextClientInterceptor] },
    });
    const separateMs = timeoutMs;
    const tracer = trace.getTracer('switchforge-bench');

    const direct = async (round: number): Promise<Map<string, number>> => {
      const out = join(workDir, `direct-${round}`);
      const spawnedAt = Date.now() / 1000;
      const r = await run(
        python,
        [
          '-m',
          'switchforge_audio.separator',
          '--input',
          wav,
          '--output-dir',
          out,
          '--model',
          MODEL,
          '--stems',
          'all',
          '--shifts',
          '1',
          '--device',
          'cpu',
        ],
        // Traced like the pipeline's run (the same span lines printed), and so timed by phase.
        { cwd: pythonWorkers, timeoutMs, env: { ...process.env, TRACEPARENT: DIRECT_TRACEPARENT } },
      );
      const exitedAt = Date.now() / 1000;
      if (r.code !== 0) throw new Error(`separator exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
      await rm(out, { recursive: true, force: true });
      return phasesOfDirectRun(r.stdout, spawnedAt, exitedAt);
    };
    const pipeline = () =>
      tracer.startActiveSpan('bench.pipeline', async (root): Promise<string> => {
        const jobUid = randomUUID();
        try {
          const handle = await startAudioJob(
            client,
            {
              jobUid,
              namespace: 'bench',
              name: `bench-${jobUid.slice(0, 8)}`,
              source: { storagePath: 'in/bench.wav' },
              separate: { model: MODEL, stems: 'all', shifts: 1, device: 'cpu' },
              outputPrefix: jobPrefix('bench', jobUid),
              timeouts: { downloadMs: 60_000, separateMs, analyzeMs: 60_000, heartbeatMs: 30_000 },
            },
            { queuePrefix: workers!.queuePrefix },
          );
          const result = await handle.result().catch((e: unknown) => {
            const cause = e instanceof WorkflowFailedError ? e.cause : undefined;
            throw new Error(`workflow failed: ${cause?.message ?? String(e)}`);
          });
          if (Object.keys(result.separation?.stems ?? {}).length === 0)
            throw new Error(`workflow returned no stems: ${JSON.stringify(result.separation)}`);
          return root.spanContext().traceId;
        } finally {
          root.end();
          await rm(join(storageRoot, jobPrefix('bench', jobUid)), { recursive: true, force: true });
        }
      });

    const directS: number[] = [];
    const pipelineS: number[] = [];
    const outsideS: number[] = [];
    const directPhases: Map<string, number>[] = [];
    const pipelineSteps: Map<string, number>[] = [];
    for (let round = 1; round <= rounds; round++) {
      let phases = new Map<string, number>();
      let traceId = '';
      const runDirect = async () =>
        directS.push(await timed(async () => void (phases = await direct(round))));
      const runPipeline = async () =>
        pipelineS.push(await timed(async () => void (traceId = await pipeline())));
      // Alternate which goes first, so neither always runs on a cache the other warmed.
      if (round % 2 === 1) {
        await runDirect();
        await runPipeline();
      } else {
        await runPipeline();
        await runDirect();
      }
      directPhases.push(phases);
      outsideS.push(pipelineS.at(-1)! - separateActivityS);
      pipelineSteps.push(await stepsOfPipelineRun(exporter, traceId));
      progress(
        `audio: round ${round}/${rounds}: direct ${formatSeconds(directS.at(-1)!)}, ` +
          `pipeline ${formatSeconds(pipelineS.at(-1)!)} (${formatSeconds(outsideS.at(-1)!)} outside the separate activity; ` +
          `load ${loadAverage()})`,
      );
    }
    const d = Math.min(...directS);
    const p = Math.min(...pipelineS);
    // Each round pairs a direct run with a pipeline run under the same load; the median of the
    // paired overheads is not moved by one lucky or unlucky round the way best-of-each is.
    const paired = directS.map((x, i) => ((pipelineS[i]! - x) / x) * 100);
    const overhead = median(paired);
    const what = `${seconds} s stereo 44.1 kHz WAV, ${MODEL}, CPU, best of ${rounds}`;
    // The spread says how far load on this machine moves a round; an overhead inside it is noise.
    const spread = (xs: number[]) =>
      `${formatSeconds(Math.min(...xs))} (rounds ${xs.map((x) => x.toFixed(2)).join(', ')} s)`;
    const fixed = directS.map((x, i) => pipelineS[i]! - x);
    return [
      {
        benchmark: 'audio',
        figure: `Demucs run directly, one python process (${what})`,
        value: spread(directS),
      },
      {
        benchmark: 'audio',
        figure: `same separation as an AudioJob workflow: download (file in storage) + separate + finish (${what})`,
        value: spread(pipelineS),
      },
      {
        benchmark: 'audio',
        figure: `pipeline overhead over Demucs directly (median of ${rounds} paired rounds)`,
        value: `${overhead.toFixed(1)} % (rounds ${paired.map((x) => x.toFixed(1)).join(', ')} %; best-of-each ${(((p - d) / d) * 100).toFixed(1)} %)`,
        goal: `≤ ${OVERHEAD_GOAL_PERCENT} %`,
        comparison:
          overhead < 0
            ? 'meets goal (pipeline faster than direct: run-to-run noise)'
            : overhead <= OVERHEAD_GOAL_PERCENT
              ? 'meets goal'
              : 'misses goal',
      },
      {
        benchmark: 'audio',
        figure: 'fixed cost of the pipeline (best pipeline − best direct; per round)',
        value: `${formatSeconds(p - d)} (rounds ${fixed.map((x) => x.toFixed(2)).join(', ')} s)`,
      },
      {
        benchmark: 'audio',
        figure: `pipeline time outside the separate activity (same runs, best of ${rounds})`,
        value: `${formatSeconds(Math.min(...outsideS))} (${((Math.min(...outsideS) / d) * 100).toFixed(1)} % of direct)`,
      },
      {
        benchmark: 'audio',
        figure: 'where a pipeline run goes (median of rounds, from its trace)',
        value: describeSteps(medianSteps(pipelineSteps)),
      },
      {
        benchmark: 'audio',
        figure: 'the direct run by phase (median of rounds)',
        value: describeSteps(medianSteps(directPhases)),
      },
      {
        benchmark: 'audio',
        figure: `separator real-time factor (${MODEL}, CPU, direct)`,
        value: `${(seconds / d).toFixed(2)}x real time`,
      },
    ];
  } finally {
    await workers?.shutdown();
    await nativeConnection.close();
    await connection.close();
    await infra.stop();
    await provider.shutdown();
    trace.disable();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Any valid context: the direct run prints its span lines as the pipeline's run does. */
const DIRECT_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** A direct run cut into steps (s): start-up before its first phase, its phases, its exit. */
function phasesOfDirectRun(stdout: string, spawnedAt: number, exitedAt: number): Map<string, number> {
  const spans = stdout
    .split('\n')
    .filter((line) => line.startsWith('{"type": "span"'))
    .map((line) => JSON.parse(line) as { name: string; start: number; end: number });
  const out = new Map<string, number>();
  if (spans.length === 0) return out;
  out.set('python start-up before decode', spans[0]!.start - spawnedAt);
  for (const span of spans) out.set(span.name, span.end - span.start);
  out.set('python exit', exitedAt - spans.at(-1)!.end);
  return out;
}

/**
 * One pipeline run cut into consecutive steps (s), from its trace: Temporal's hand-overs between
 * stages, each activity, the Python process's start-up before its first phase, its phases, and
 * its exit. The steps add up to the run's wall time.
 */
async function stepsOfPipelineRun(
  exporter: InMemorySpanExporter,
  traceId: string,
): Promise<Map<string, number>> {
  // The finish activity's span closes just before the result reaches the client.
  let spans: ReadableSpan[] = [];
  for (let i = 0; i < 100; i++) {
    spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    if (spans.some((s) => s.name === 'bench.pipeline') && spans.some((s) => s.name === 'RunActivity:finish'))
      break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
  const get = (name: string) => {
    const span = spans.find((s) => s.name === name);
    if (!span) throw new Error(`no ${name} span in the pipeline's trace`);
    return { start: ms(span.startTime), end: ms(span.endTime) };
  };
  const root = get('bench.pipeline');
  const download = get('RunActivity:download');
  const separate = get('RunActivity:separate');
  const py = get('python switchforge_audio.separator');
  const decode = get('separator.decode');
  const load = get('separator.load_model');
  const sep = get('separator.separate');
  const write = get('separator.write');
  const finish = get('RunActivity:finish');
  const steps: Array<[string, number, number]> = [
    ['start → download activity', root.start, download.start],
    ['download activity', download.start, download.end],
    ['download → separate activity', download.end, separate.start],
    ['separate activity → python spawned', separate.start, py.start],
    ['python start-up before decode', py.start, decode.start],
    ['separator.decode', decode.start, decode.end],
    ['separator.load_model', load.start, load.end],
    ['separator.separate', sep.start, sep.end],
    ['separator.write', write.start, write.end],
    ['python exit', write.end, py.end],
    ['separate activity wrap-up', py.end, separate.end],
    ['separate → finish activity', separate.end, finish.start],
    ['finish activity', finish.start, finish.end],
    ['finish → result at client', finish.end, root.end],
  ];
  return new Map(steps.map(([name, a, b]) => [name, (b - a) / 1000]));
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per step, the median over runs. */
function medianSteps(runs: readonly Map<string, number>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const key of runs[0]?.keys() ?? []) out.set(key, median(runs.map((r) => r.get(key) ?? 0)));
  return out;
}

function describeSteps(steps: Map<string, number>): string {
  return [...steps].map(([name, s]) => `${name} ${(s * 1000).toFixed(0)} ms`).join('; ');
}

function loadAverage(): string {
  return loadavg()[0]!.toFixed(1);
}
