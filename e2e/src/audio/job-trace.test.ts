/**
 * One trace per AudioJob, on real servers: the operator's AudioJob controller (in-process, on a
 * kube-apiserver) starts the workflow inside its reconcile span; Temporal headers carry that
 * context through the workflow (dev server) to every activity; each activity hands it to its
 * Python child, whose phases (decode, model load, separation, writing; analysis features) come
 * back as span lines. The spans are read from an OpenTelemetry SDK in-memory exporter.
 * The AudioJob asks for `htdemucs`, which the workers load from a model folder (`--repo`) where
 * this test saved Demucs' untrained `demucs_unittest` under that name: real Demucs code, no
 * download. Needs the python-workers venv; skipped without it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { AudioJob } from '@switchforge/platform/crd';
import { run } from '@switchforge/testkit/processes';
import { useInfra, type Infra } from '@switchforge/testkit';
import { readAudioOperatorConfig, startAudioJobControllers } from '@switchforge/operator/audiojob/index';
import { createActivities } from '@switchforge/worker/audio/activities';
import { DEFAULT_HTTP_LIMITS } from '@switchforge/worker/audio/sources/http';
import { MemoryResultSink } from '@switchforge/worker/audio/test-support/memory-sink';
import { bundleAudioWorkflows, runAudioWorkers, type AudioWorkers } from '@switchforge/worker/audio/worker';
import { synthWav } from './synth-wav.js';
import { VENV_NOT_READY, pythonWorkers, readyVenvPython } from './venv-python.js';

const python = readyVenvPython();
const crd = (file: string) => fileURLToPath(new URL(`../../../crds/${file}`, import.meta.url));
const suffix = randomBytes(4).toString('hex');
const namespace = `trace-${suffix}`;
const CLIP_SECONDS = 3;

describe(
  'an AudioJob is one trace from the operator to the Python phases',
  { skip: python ? false : VENV_NOT_READY },
  () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    let infra: Infra;
    let workDir: string;
    let nativeConnection: NativeConnection;
    let workers: AudioWorkers | undefined;
    let stopController: (() => Promise<void>) | undefined;

    const kubectl = async (args: string[], input?: string): Promise<string> => {
      const r = await infra.kubernetes.kubectl(args, input);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
      return r.stdout;
    };

    before(async () => {
      // The SDK a process entrypoint would start; W3C trace context is its default propagator.
      provider.register();
      infra = await useInfra({ kubernetes: true, temporal: true });
      Runtime.install({ logger: new DefaultLogger('ERROR') });
      await kubectl(['apply', '-f', crd('audiojob.yaml')]);
      await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/audiojobs.switchforge.io']);
      await kubectl(['create', 'namespace', namespace]);

      workDir = await mkdtemp(join(tmpdir(), 'sf-job-trace-'));
      const storageRoot = join(workDir, 'storage');
      // storagePath is resolved inside the job's namespace's area.
      await mkdir(join(storageRoot, 'namespaces', namespace, 'in'), { recursive: true });
      await writeFile(join(storageRoot, 'namespaces', namespace, 'in', 'tone.wav'), synthWav(CLIP_SECONDS));
      const modelRepo = join(workDir, 'models');
      await mkdir(modelRepo);
      await saveTinyModelAs(python!, modelRepo, 'htdemucs');

      const queuePrefix = `trace-${suffix}-`;
      nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
      workers = await runAudioWorkers({
        connection: nativeConnection,
        namespace: infra.temporal.namespace,
        queuePrefix,
        workflowBundle: await bundleAudioWorkflows(new DefaultLogger('WARN')),
        activities: createActivities({
          storageRoot,
          pythonPath: python!,
          pythonCwd: pythonWorkers,
          modelRepo,
          httpLimits: DEFAULT_HTTP_LIMITS,
          resultSink: new MemoryResultSink(),
        }),
      });
      const kc = new KubeConfig();
      kc.loadFromFile(infra.kubernetes.kubeconfig);
      stopController = await startAudioJobControllers(
        kc,
        readAudioOperatorConfig({
          TEMPORAL_ADDRESS: infra.temporal.address,
          TEMPORAL_NAMESPACE: infra.temporal.namespace,
          AUDIO_QUEUE_PREFIX: queuePrefix,
          AUDIO_STORAGE_ROOT: storageRoot,
          AUDIO_WATCH_NAMESPACE: namespace,
          AUDIO_PROGRESS_POLL: '500ms',
          AUDIO_POOL_ENABLED: 'false',
        }),
      );
    });

    after(async () => {
      await stopController?.();
      await workers?.shutdown();
      await nativeConnection?.close();
      if (infra) {
        // The job keeps a finalizer whose controller is gone now: drop it so the namespace can go.
        await infra.kubernetes.kubectl([
          'patch',
          'audiojob/tone',
          '-n',
          namespace,
          '--type',
          'merge',
          '-p',
          '{"metadata":{"finalizers":null}}',
        ]);
        await infra.kubernetes.kubectl(['delete', 'namespace', namespace, '--wait=false']);
        await infra.stop();
      }
      await provider.shutdown();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    });

    it(
      'reconcile → every activity → python run → its phases share one trace id, each span under its parent',
      { timeout: 240_000 },
      async () => {
        await kubectl(
          ['apply', '-f', '-'],
          JSON.stringify({
            apiVersion: 'switchforge.io/v1alpha1',
            kind: 'AudioJob',
            metadata: { name: 'tone', namespace },
            spec: {
              source: { storagePath: 'in/tone.wav' },
              stages: {
                separate: { model: 'htdemucs', device: 'cpu' },
                analyze: { features: ['tempo', 'key', 'loudness'] },
              },
              timeouts: { download: '30s', separate: '3m', analyze: '2m' },
            },
          }),
        );
        const job = await waitForPhase(infra, namespace, 'tone', 'Succeeded', 200_000);
        // Spans end as their work ends; the finish activity's span is the last to close.
        const spans = await waitForSpan(exporter, 'RunActivity:finish');

        const started = spans.filter(
          (s) => s.name === 'audiojob.reconcile' && s.events.some((e) => e.name === 'audio workflow started'),
        );
        assert.equal(started.length, 1, 'one reconcile started the workflow');
        const reconcile = started[0]!;
        assert.equal(reconcile.attributes['switchforge.audio.job_uid'], job.metadata.uid);
        const traceId = reconcile.spanContext().traceId;
        const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
        const one = (name: string, parent: ReadableSpan): ReadableSpan => {
          const found = inTrace.filter((s) => s.name === name);
          assert.equal(
            found.length,
            1,
            `one ${name} span in the job's trace; names: ${inTrace.map((s) => s.name).join(', ')}`,
          );
          const span = found[0]!;
          assert.equal(
            span.parentSpanContext?.spanId,
            parent.spanContext().spanId,
            `${name} is a child of ${parent.name}`,
          );
          return span;
        };

        for (const activity of ['download', 'separate', 'analyze', 'finish']) {
          const run = one(`RunActivity:${activity}`, reconcile);
          assert.equal(run.attributes['temporal.workflow.id'], `audiojob-${job.metadata.uid}`);
        }
        const separate = one('audio.separate', one('RunActivity:separate', reconcile));
        const separator = one('python switchforge_audio.separator', separate);
        const separatorPhases = [
          'separator.decode',
          'separator.load_model',
          'separator.separate',
          'separator.write',
        ];
        for (const name of separatorPhases) within(one(name, separator), separator);
        assert.equal(
          one('separator.decode', separator).attributes['audio.duration_s'],
          CLIP_SECONDS,
          'the decode phase says how long the audio is',
        );
        const analyze = one('audio.analyze', one('RunActivity:analyze', reconcile));
        const analyzer = one('python switchforge_audio.analyzer', analyze);
        for (const name of ['analyzer.decode', 'analyzer.tempo', 'analyzer.key', 'analyzer.loudness'])
          within(one(name, analyzer), analyzer);
      },
    );
  },
);

async function saveTinyModelAs(python: string, folder: string, name: string): Promise<void> {
  const script =
    'import sys; from pathlib import Path; from demucs.pretrained import demucs_unittest; ' +
    'from switchforge_audio.model_files import save_model_file; ' +
    'save_model_file(demucs_unittest(), Path(sys.argv[1]), sys.argv[2])';
  const r = await run(python, ['-c', script, folder, name], { cwd: pythonWorkers, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `saving the model failed: ${r.stderr}`);
}

async function waitForPhase(
  infra: Infra,
  namespace: string,
  name: string,
  phase: string,
  ms: number,
): Promise<AudioJob> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await infra.kubernetes.kubectl(['get', 'audiojob', name, '-n', namespace, '-o', 'json']);
    const job = r.code === 0 ? (JSON.parse(r.stdout) as AudioJob) : undefined;
    if (job?.status?.phase === phase) return job;
    if (job?.status?.phase === 'Failed') throw new Error(`job failed: ${JSON.stringify(job.status)}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${phase}: ${JSON.stringify(job?.status)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitForSpan(exporter: InMemorySpanExporter, name: string): Promise<ReadableSpan[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const spans = exporter.getFinishedSpans();
    if (spans.some((s) => s.name === name) || Date.now() > deadline) return spans;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A Python phase lies inside the run of its process (same clock: both are this machine's). */
function within(child: ReadableSpan, parent: ReadableSpan): void {
  const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
  assert.ok(ms(child.startTime) >= ms(parent.startTime), `${child.name} starts after ${parent.name}`);
  assert.ok(ms(child.endTime) <= ms(parent.endTime), `${child.name} ends before ${parent.name}`);
  assert.ok(ms(child.endTime) >= ms(child.startTime), `${child.name} has a non-negative duration`);
}
