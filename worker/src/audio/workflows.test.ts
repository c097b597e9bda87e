import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { useInfra } from '@switchforge/testkit';
import type { Infra } from '@switchforge/testkit';
import { createActivities } from './activities.js';
import { SourceAddressPolicy } from '@switchforge/platform/audio/source-address-policy';
import { jobPrefix } from '@switchforge/platform/audio/storage-layout';
import { MemoryResultSink } from './test-support/memory-sink.js';
import { writeFakePythonPackage } from './test-support/fake-python.js';
import type { AudioJobInput, AudioJobResult, JobProgress } from '@switchforge/platform/audio/types';
import { workflowIdForJob } from '@switchforge/platform/audio/workflow-id';
import { bundleAudioWorkflows, runAudioWorkers } from './worker.js';
import type { AudioWorkers } from './worker.js';
import { cancelAudioJob, startAudioJob } from '@switchforge/platform/audio/client';
import { traceContextClientInterceptor } from '@switchforge/platform/audio/trace-client-interceptor';

/** Bodies the local source server serves; the fake Python scripts act on the first word. */
const FILES: Record<string, { type: string; body: string }> = {
  '/ok.wav': { type: 'audio/wav', body: 'OK\n' },
  '/truncated.wav': { type: 'audio/wav', body: 'CORRUPT\n' },
  '/empty.wav': { type: 'audio/wav', body: '' },
  '/page.html': { type: 'text/html', body: '<html>not audio</html>' },
  '/big.wav': { type: 'audio/wav', body: 'OK\n' + 'x'.repeat(4096) },
  '/slow.wav': { type: 'audio/wav', body: 'SLOW\n' },
  '/once-slow.wav': { type: 'audio/wav', body: 'ONCE_SLOW\n' },
};
const MAX_BYTES = 1024;

let infra: Infra;
let bundle: WorkflowBundleWithSourceMap;
let workDir: string;
let storageRoot: string;
let pythonCwd: string;
let stateDir: string;
let server: Server;
let baseUrl: string;
const hits = new Map<string, number>();
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
const sink = new MemoryResultSink();
// The SDK a process entrypoint would start, exporting to memory (W3C propagation by default).
const spans = new InMemorySpanExporter();
const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const started: AudioWorkers[] = [];

function activities() {
  return createActivities({
    storageRoot,
    pythonPath: 'python3',
    pythonCwd,
    httpLimits: { maxBytes: MAX_BYTES, allowedContentTypes: ['audio/*'], timeoutMs: 10_000 },
    // The test's source server is on loopback, which sources may not reach unless allowed.
    sourcePolicy: new SourceAddressPolicy({ allowCidrs: ['127.0.0.1/32'] }),
    resultSink: sink,
    killGraceMs: 1_000,
  });
}

async function workers(
  queuePrefix: string,
  roles?: Parameters<typeof runAudioWorkers>[0]['roles'],
): Promise<AudioWorkers> {
  const w = await runAudioWorkers({
    connection: nativeConnection,
    namespace: infra.temporal.namespace,
    activities: activities(),
    queuePrefix,
    workflowBundle: bundle,
    ...(roles ? { roles } : {}),
  });
  started.push(w);
  return w;
}

function job(path: string, overrides: Partial<AudioJobInput> = {}): AudioJobInput {
  const jobUid = randomUUID();
  return {
    jobUid,
    namespace: 'music',
    name: `job-${jobUid.slice(0, 8)}`,
    source: { url: `${baseUrl}${path}` },
    separate: { model: 'htdemucs', stems: 'all', shifts: 1, segment: 7, device: 'cpu' },
    analyze: { features: ['tempo', 'key', 'loudness'] },
    outputPrefix: jobPrefix('music', jobUid),
    timeouts: { downloadMs: 10_000, separateMs: 30_000, analyzeMs: 20_000, heartbeatMs: 5_000 },
    ...overrides,
  };
}

function start(w: AudioWorkers, input: AudioJobInput) {
  return startAudioJob(client, input, { queuePrefix: w.queuePrefix });
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readPid = (uid: string, module: string) =>
  readFile(join(stateDir, `${uid}.${module}.pid`), 'utf8').then(Number, () => undefined);
const runs = (uid: string) =>
  readFile(join(stateDir, `${uid}.runs`), 'utf8').then(
    (s) => s.trim().split('\n'),
    () => [] as string[],
  );
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('audioJobWorkflow on a Temporal dev server', () => {
  let main: AudioWorkers;

  before(async () => {
    tracerProvider.register();
    infra = await useInfra({ temporal: true });
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    workDir = await mkdtemp(join(tmpdir(), 'sf-audio-wf-'));
    storageRoot = join(workDir, 'storage');
    pythonCwd = join(workDir, 'python');
    stateDir = join(workDir, 'state');
    await Promise.all([mkdir(storageRoot), mkdir(stateDir)]);
    await writeFakePythonPackage(pythonCwd);
    process.env.FAKE_STATE_DIR = stateDir;

    server = createServer((req, res) => {
      const path = req.url ?? '/';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const file = FILES[path];
      if (!file) return void res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': file.type }).end(file.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    bundle = await bundleAudioWorkflows(new DefaultLogger('WARN'));
    nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
    connection = await Connection.connect({ address: infra.temporal.address });
    client = new Client({ connection, namespace: infra.temporal.namespace });
    main = await workers(`t${Date.now()}-`);
  });

  after(async () => {
    await Promise.allSettled(started.map((w) => w.shutdown()));
    await nativeConnection?.close();
    await connection?.close();
    server?.close();
    await infra?.stop();
    await tracerProvider.shutdown();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('a workflow started inside a span runs each activity, and its Python phases, in that trace', async () => {
    const traced = new Client({
      connection,
      namespace: infra.temporal.namespace,
      interceptors: { workflow: [traceContextClientInterceptor] },
    });
    const input = job('/ok.wav');
    const reconcile = await trace.getTracer('test').startActiveSpan('operator reconcile', async (span) => {
      await startAudioJob(traced, input, { queuePrefix: main.queuePrefix });
      span.end();
      return span.spanContext();
    });
    await client.workflow.getHandle(workflowIdForJob(input.jobUid)).result();

    const finished = () => spans.getFinishedSpans();
    await waitFor('the finish activity span', () =>
      finished().some(
        (s) =>
          s.name === 'RunActivity:finish' &&
          s.attributes['temporal.workflow.id'] === workflowIdForJob(input.jobUid),
      ),
    );
    const inTrace = finished().filter((s) => s.spanContext().traceId === reconcile.traceId);
    const byName = (name: string) => {
      const found = inTrace.filter((s) => s.name === name);
      assert.equal(
        found.length,
        1,
        `one ${name} in the trace; it has ${inTrace.map((s) => s.name).join(', ')}`,
      );
      return found[0]!;
    };
    const parentOf = (name: string) => byName(name).parentSpanContext?.spanId;
    for (const activity of ['download', 'separate', 'analyze', 'finish'])
      assert.equal(parentOf(`RunActivity:${activity}`), reconcile.spanId, activity);
    assert.equal(parentOf('audio.separate'), byName('RunActivity:separate').spanContext().spanId);
    assert.equal(
      parentOf('python switchforge_audio.separator'),
      byName('audio.separate').spanContext().spanId,
    );
    assert.equal(
      parentOf('separator.write'),
      byName('python switchforge_audio.separator').spanContext().spanId,
    );
    assert.equal(byName('separator.write').attributes.stems, 4);
  });

  it('runs download, separation and analysis, exposing progress and recording the result', async () => {
    const input = job('/ok.wav');
    const handle = await start(main, input);
    const result: AudioJobResult = await handle.result();

    assert.equal(result.input.bytes, 3);
    assert.equal(result.input.inputPath, `namespaces/music/jobs/${input.jobUid}/input/source.wav`);
    assert.deepEqual(Object.keys(result.separation?.stems ?? {}).sort(), [
      'bass',
      'drums',
      'other',
      'vocals',
    ]);
    assert.equal(result.separation?.stems.vocals, `namespaces/music/jobs/${input.jobUid}/stems/vocals.wav`);
    assert.ok(await exists(join(storageRoot, result.separation?.stems.vocals ?? 'missing')));
    assert.equal(result.analysis?.tempo?.bpm, 124);
    assert.equal(result.analysis?.key?.label, 'A minor');
    assert.equal(result.analysis?.spectral?.centroidHz, 1800);

    const progress: JobProgress = await handle.query('progress');
    assert.deepEqual(progress, { phase: 'Succeeded', percent: 100 });
    assert.deepEqual(sink.results.get(input.jobUid), result);
    const stages = new Set(sink.progress.filter((p) => p.jobUid === input.jobUid).map((p) => p.stage));
    assert.deepEqual([...stages].sort(), ['analyze', 'download', 'separate']);

    // The operator restarting and starting "again" gets the job's one workflow back.
    const again = await start(main, input);
    assert.equal(again.workflowId, workflowIdForJob(input.jobUid));
    assert.deepEqual(await again.result(), result);
    const runs = await collect(
      client.workflow.list({ query: `WorkflowId = '${workflowIdForJob(input.jobUid)}'` }),
    );
    assert.equal(runs.length, 1);
  });

  const badInputs = [
    { name: 'an empty download', path: '/empty.wav', reason: 'EmptyAudio', stage: 'download' },
    { name: 'a truncated file', path: '/truncated.wav', reason: 'CorruptAudio', stage: 'analyze' },
    { name: 'a non-audio response', path: '/page.html', reason: 'UnsupportedContentType', stage: 'download' },
    { name: 'a file over the size limit', path: '/big.wav', reason: 'TooLarge', stage: 'download' },
    { name: 'a source that answers 404', path: '/gone.wav', reason: 'SourceNotFound', stage: 'download' },
  ] as const;
  for (const bad of badInputs) {
    it(`fails the job at once with reason ${bad.reason} for ${bad.name}`, async () => {
      const input = job(bad.path, bad.stage === 'analyze' ? { separate: undefined } : {});
      const handle = await start(main, input);
      const err = await handle.result().catch((e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError, String(err));
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, bad.reason);
      const failure = sink.failures.get(input.jobUid);
      assert.equal(failure?.reason, bad.reason);
      assert.equal(failure?.stage, bad.stage);
      assert.ok((failure?.message.length ?? 0) > 10, 'the reason comes with a message for people');
      const progress: JobProgress = await handle.query('progress');
      assert.equal(progress.phase, 'Failed');
      // Not retried: one request to the source, one run of the script.
      assert.equal(hits.get(bad.path), 1);
      if (bad.stage === 'analyze') assert.deepEqual(await runs(input.jobUid), ['analyzer']);
    });
  }

  it('cancelling the job stops its Python process within 5 s and removes its files', async () => {
    const input = job('/slow.wav');
    const handle = await start(main, input);
    const pid = await waitFor('the separator to start', () => readPid(input.jobUid, 'separator'));
    const running = await waitFor('progress from the separator', async () => {
      const p: JobProgress = await handle.query('progress');
      return p.stage === 'separate' && p.percent > 0 ? p : undefined;
    });
    assert.equal(running.phase, 'Running');

    const cancelledAt = Date.now();
    await cancelAudioJob(client, input.jobUid);
    await waitFor('the separator to die', () => !alive(pid) || undefined, 5_000);
    assert.ok(Date.now() - cancelledAt < 5_000);

    const err = await handle.result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
    assert.equal(await exists(join(storageRoot, input.outputPrefix)), false);
    const progress: JobProgress = await handle.query('progress');
    assert.equal(progress.phase, 'Cancelled');
  });

  it('retries a separation on another worker when its worker process is killed, and completes', async () => {
    const prefix = `k${Date.now()}-`;
    const local = await workers(prefix, ['workflows', 'download', 'analyze']);
    const child = await startChildWorker(prefix);
    try {
      const input = job('/once-slow.wav', {
        timeouts: { downloadMs: 10_000, separateMs: 60_000, analyzeMs: 20_000, heartbeatMs: 2_000 },
      });
      const handle = await start(local, input);
      const firstPid = await waitFor('the first separation to start', () =>
        readPid(input.jobUid, 'separator'),
      );
      child.kill('SIGKILL');
      await workers(prefix, ['process']);

      const result: AudioJobResult = await handle.result();
      assert.equal(result.separation?.stems.vocals, `namespaces/music/jobs/${input.jobUid}/stems/vocals.wav`);
      assert.deepEqual(await runs(input.jobUid), ['separator', 'separator', 'analyzer']);
      assert.notEqual(await readPid(input.jobUid, 'separator'), firstPid);
      // The orphaned first attempt notices its worker is gone and exits.
      await waitFor('the orphaned separator to exit', () => !alive(firstPid) || undefined, 5_000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** The processing worker in a process of its own, so it can be killed like a crashed pod. */
async function startChildWorker(prefix: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./test-support/activity-worker-child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      script,
      infra.temporal.address,
      infra.temporal.namespace,
      prefix,
      storageRoot,
      pythonCwd,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`child worker exited ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}
