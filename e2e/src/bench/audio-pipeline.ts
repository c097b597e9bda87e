/**
 * The audio pipeline's cost over its work: the same synthesized WAV separated by Demucs
 * (`demucs_unittest`, the one model available offline) run directly, and through the real
 * pipeline (Temporal dev server, the audio workers in this process with the real Python, a job
 * with a separate stage only). Rounds alternate direct and pipeline so background load drifts
 * into both alike; the best of each is kept.
 */
import { synthWav } from '../audio/synth-wav.js';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../../../worker/src/audio/activities.js';
import { startAudioJob } from '../../../worker/src/audio/client.js';
import { DEFAULT_HTTP_LIMITS } from '../../../worker/src/audio/sources/http.js';
import { jobPrefix } from '../../../worker/src/audio/storage.js';
import { MemoryResultSink } from '../../../worker/src/audio/test-support/memory-sink.js';
import { runAudioWorkers } from '../../../worker/src/audio/worker.js';
import { repoRoot } from '../infra/paths.js';
import { run } from '../infra/processes.js';
import { useInfra } from '../infra/suite.js';
import { formatSeconds, type Figure } from './figures.js';

const MODEL = 'demucs_unittest';
const OVERHEAD_GOAL_PERCENT = 5;
const pythonWorkers = join(repoRoot, 'python-workers');

export const AUDIO_DEFAULTS = { seconds: 30, rounds: 3, timeoutMs: 600_000 } as const;

export interface AudioBenchOptions {
  readonly seconds: number;
  readonly rounds: number;
  /** Per step: setup.sh, one separation, one workflow. */
  readonly timeoutMs: number;
  readonly progress: (line: string) => void;
}

async function venvPython(timeoutMs: number): Promise<string> {
  const setup = await run('bash', [join(pythonWorkers, 'setup.sh')], { cwd: repoRoot, timeoutMs });
  if (setup.code !== 0)
    throw new Error(`python-workers/setup.sh exited ${setup.code}: ${setup.stderr.slice(-2000)}`);
  return join(setup.stdout.trim().split('\n').at(-1)!, 'bin', 'python');
}

async function timed(body: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await body();
  return (performance.now() - t0) / 1000;
}

export async function runAudioPipelineBenchmark(options: AudioBenchOptions): Promise<Figure[]> {
  const { seconds, rounds, timeoutMs, progress } = options;
  const python = await venvPython(timeoutMs);
  const workDir = await mkdtemp(join(tmpdir(), 'switchforge-audio-bench-'));
  const storageRoot = join(workDir, 'storage');
  await mkdir(join(storageRoot, 'in'), { recursive: true });
  const wav = join(storageRoot, 'in', 'bench.wav');
  await writeFile(wav, synthWav(seconds));

  progress(`audio: starting a dedicated Temporal dev server; ${seconds} s stereo 44.1 kHz WAV`);
  const infra = await useInfra({ temporal: true }, { dedicated: true });
  // Worker logs at WARN would interleave with the progress lines.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
  const connection = await Connection.connect({ address: infra.temporal.address });
  let workers: Awaited<ReturnType<typeof runAudioWorkers>> | undefined;
  try {
    // Bundled once, before timing: a worker bundles at start otherwise.
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: join(repoRoot, 'worker/src/audio/workflows.ts'),
      logger: new DefaultLogger('WARN'),
    });
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
    const client = new Client({ connection, namespace: infra.temporal.namespace });
    const separateMs = timeoutMs;

    const direct = async (round: number) => {
      const out = join(workDir, `direct-${round}`);
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
        { cwd: pythonWorkers, timeoutMs },
      );
      if (r.code !== 0) throw new Error(`separator exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
      await rm(out, { recursive: true, force: true });
    };
    const pipeline = async () => {
      const jobUid = randomUUID();
      const handle = await startAudioJob(
        client,
        {
          jobUid,
          namespace: 'bench',
          name: `bench-${jobUid.slice(0, 8)}`,
          source: { storagePath: 'in/bench.wav' },
          separate: { model: MODEL, stems: 'all', shifts: 1, device: 'cpu' },
          outputPrefix: jobPrefix(jobUid),
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
      await rm(join(storageRoot, jobPrefix(jobUid)), { recursive: true, force: true });
    };

    const directS: number[] = [];
    const pipelineS: number[] = [];
    const outsideS: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      directS.push(await timed(() => direct(round)));
      pipelineS.push(await timed(pipeline));
      outsideS.push(pipelineS.at(-1)! - separateActivityS);
      progress(
        `audio: round ${round}/${rounds}: direct ${formatSeconds(directS.at(-1)!)}, ` +
          `pipeline ${formatSeconds(pipelineS.at(-1)!)} (${formatSeconds(outsideS.at(-1)!)} outside the separate activity)`,
      );
    }
    const d = Math.min(...directS);
    const p = Math.min(...pipelineS);
    const overhead = ((p - d) / d) * 100;
    const what = `${seconds} s stereo WAV, ${MODEL}, CPU, best of ${rounds}`;
    // The spread says how far load on this machine moves a round; an overhead inside it is noise.
    const spread = (xs: number[]) =>
      `${formatSeconds(Math.min(...xs))} (rounds ${xs.map((x) => x.toFixed(1)).join(', ')} s)`;
    return [
      { benchmark: 'audio', figure: `Demucs run directly (${what})`, value: spread(directS) },
      {
        benchmark: 'audio',
        figure: `same separation through the pipeline (${what})`,
        value: spread(pipelineS),
      },
      {
        benchmark: 'audio',
        figure: 'pipeline overhead over Demucs directly',
        value: `${overhead.toFixed(1)} %`,
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
        figure: `pipeline time outside the separate activity (same runs, best of ${rounds})`,
        value: `${formatSeconds(Math.min(...outsideS))} (${((Math.min(...outsideS) / d) * 100).toFixed(1)} % of direct)`,
        goal: `≤ ${OVERHEAD_GOAL_PERCENT} %`,
        comparison: (Math.min(...outsideS) / d) * 100 <= OVERHEAD_GOAL_PERCENT ? 'meets goal' : 'misses goal',
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
    await rm(workDir, { recursive: true, force: true });
  }
}
