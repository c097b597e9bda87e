/**
 * The audio pipeline end to end on real servers: AudioJobs on a kube-apiserver, the operator's
 * AudioJob controller in-process, one Temporal workflow per job on the dev server, audio workers
 * in-process with stand-in Python scripts (the first word of the input picks their behaviour),
 * and results in PostgreSQL through the worker's TypeORM sink.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { APP_ROOT, IMAGE_COMMANDS } from '@switchforge/platform/image-layout';
import type { AudioJob } from '@switchforge/platform/crd';
import { createDataSource, migrate } from '@switchforge/platform/db';
import { useInfra, type Infra } from '@switchforge/testkit';
import {
  startAudioJobControllers,
  readAudioOperatorConfig,
  FINALIZER,
  POOL_DEPLOYMENT,
} from '@switchforge/operator/audiojob/index';
import { PoolScaler } from '@switchforge/operator/audiojob/pool/pool-scaler';
import { createActivities } from '@switchforge/worker/audio/activities';
import { PostgresResultSink } from '@switchforge/worker/audio/result-sink-postgres';
import { writeFakePythonPackage } from '@switchforge/worker/audio/test-support/fake-python';
import { bundleAudioWorkflows, runAudioWorkers, type AudioWorkers } from '@switchforge/worker/audio/worker';
import { DEFAULT_HTTP_LIMITS } from '@switchforge/worker/audio/sources/http';
import { workflowIdForJob } from '@switchforge/platform/audio/workflow-id';
import { isAlive } from '@switchforge/testkit/processes';

const crd = (file: string) => fileURLToPath(new URL(`../../../crds/${file}`, import.meta.url));
const suffix = randomBytes(4).toString('hex');
const namespace = `audio-${suffix}`;
const schema = `audio_${suffix}`;
const queuePrefix = `aj-${suffix}-`;

let infra: Infra;
let workDir: string;
let storageRoot: string;
let stateDir: string;
let db: DataSource;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
let workers: AudioWorkers;
let stopController: (() => Promise<void>) | undefined;

const kubectl = (args: string[], input?: string) => infra.kubernetes.kubectl(args, input);
async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function startController(): Promise<() => Promise<void>> {
  const kc = new KubeConfig();
  kc.loadFromFile(infra.kubernetes.kubeconfig);
  const config = readAudioOperatorConfig({
    TEMPORAL_ADDRESS: infra.temporal.address,
    TEMPORAL_NAMESPACE: infra.temporal.namespace,
    AUDIO_QUEUE_PREFIX: queuePrefix,
    AUDIO_STORAGE_ROOT: storageRoot,
    AUDIO_WATCH_NAMESPACE: namespace,
    AUDIO_PROGRESS_POLL: '500ms',
    AUDIO_POOL_NAMESPACE: namespace,
    AUDIO_POOL_MIN_REPLICAS: '1',
    AUDIO_POOL_MAX_REPLICAS: '3',
    AUDIO_POOL_INTERVAL: '2s',
  });
  return startAudioJobControllers(kc, config);
}

/** The job's namespace's own area of the storage: where its `storagePath` is resolved. */
const area = () => join(storageRoot, 'namespaces', namespace);

/** An AudioJob reading `in/<name>.wav`, whose first line says what the stand-in scripts do. */
async function applyJob(name: string, word: string, stages: AudioJob['spec']['stages']): Promise<string> {
  await writeFile(join(area(), 'in', `${name}.wav`), `${word}\n`);
  return applyJobWithSource(name, { storagePath: `in/${name}.wav` }, stages);
}

async function applyJobWithSource(
  name: string,
  source: AudioJob['spec']['source'],
  stages: AudioJob['spec']['stages'],
): Promise<string> {
  const manifest = {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'AudioJob',
    metadata: { name, namespace },
    spec: {
      source,
      stages,
      timeouts: { download: '20s', separate: '90s', analyze: '20s' },
    },
  };
  await ok(['apply', '-f', '-'], JSON.stringify(manifest));
  return (await getJob(name))!.metadata.uid!;
}

async function getJob(name: string): Promise<AudioJob | undefined> {
  const r = await kubectl(['get', 'audiojob', name, '-n', namespace, '-o', 'json']);
  if (r.code !== 0) {
    if (/NotFound/.test(r.stderr)) return undefined;
    throw new Error(r.stderr);
  }
  return JSON.parse(r.stdout) as AudioJob;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const waitForJob = (name: string, what: string, pred: (j: AudioJob) => boolean, ms?: number) =>
  waitFor(
    `${name}: ${what}`,
    async () => {
      const j = await getJob(name);
      return j && pred(j) ? j : undefined;
    },
    ms,
  );

const pidOf = (name: string, module: string) =>
  readFile(join(stateDir, `${name}.wav.${module}.pid`), 'utf8').then(Number, () => undefined);
const runsOf = (name: string) =>
  readFile(join(stateDir, `${name}.wav.runs`), 'utf8').then(
    (s) => s.trim().split('\n'),
    () => [] as string[],
  );
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function workflowCount(uid: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowIdForJob(uid)}'` })) n++;
  return n;
}

describe('AudioJob → Temporal workflow → audio workers, on real servers', () => {
  before(async () => {
    infra = await useInfra({ kubernetes: true, postgres: true, temporal: true });
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    await ok(['apply', '-f', crd('device.yaml'), '-f', crd('audiojob.yaml')]);
    await ok([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/audiojobs.switchforge.io',
      'crd/devices.switchforge.io',
    ]);
    await ok(['create', 'namespace', namespace]);

    workDir = await mkdtemp(join(tmpdir(), 'sf-audiojob-'));
    storageRoot = join(workDir, 'storage');
    stateDir = join(workDir, 'state');
    await Promise.all([mkdir(join(area(), 'in'), { recursive: true }), mkdir(stateDir)]);
    await writeFakePythonPackage(join(workDir, 'python'));
    process.env.FAKE_STATE_DIR = stateDir;

    await migrate({ url: infra.postgres.dsn, schema });
    db = createDataSource({ url: infra.postgres.dsn, schema, poolSize: 3 });
    await db.initialize();

    const workflowBundle = await bundleAudioWorkflows(new DefaultLogger('WARN'));
    nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
    connection = await Connection.connect({ address: infra.temporal.address });
    client = new Client({ connection, namespace: infra.temporal.namespace });
    workers = await runAudioWorkers({
      connection: nativeConnection,
      namespace: infra.temporal.namespace,
      queuePrefix,
      workflowBundle,
      activities: createActivities({
        storageRoot,
        pythonPath: 'python3',
        pythonCwd: join(workDir, 'python'),
        httpLimits: DEFAULT_HTTP_LIMITS,
        resultSink: new PostgresResultSink(db),
        killGraceMs: 1_000,
        progressIntervalMs: 200,
      }),
    });
    stopController = await startController();
  });

  after(async () => {
    await stopController?.();
    await workers?.shutdown();
    await nativeConnection?.close();
    await connection?.close();
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db?.destroy();
    if (infra) {
      // Jobs keep a finalizer whose controller is gone now: drop it so the namespace can go.
      const left = await kubectl(['get', 'audiojobs', '-n', namespace, '-o', 'name']);
      for (const obj of left.stdout.split('\n').filter(Boolean)) {
        await kubectl([
          'patch',
          obj,
          '-n',
          namespace,
          '--type',
          'merge',
          '-p',
          '{"metadata":{"finalizers":null}}',
        ]);
      }
      await kubectl(['delete', 'namespace', namespace, '--wait=false']);
      await infra.stop();
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('a job runs as one workflow, Running with progress, to Succeeded with results in its status and in PostgreSQL, across a controller restart', async () => {
    const uid = await applyJob('song', 'PAUSE', { separate: { model: 'htdemucs' }, analyze: {} });
    const running = await waitForJob(
      'song',
      'Running in separate with progress',
      (j) => j.status?.phase === 'Running' && j.status.stage === 'separate' && (j.status.progress ?? 0) > 33,
    );
    assert.ok(running.metadata.finalizers?.includes(FINALIZER));
    assert.equal(running.status?.workflowId, workflowIdForJob(uid));

    // A restart mid-way (a new leader) finds the same workflow instead of starting another.
    await stopController!();
    stopController = await startController();

    const done = await waitForJob('song', 'Succeeded', (j) => j.status?.phase === 'Succeeded');
    const s = done.status!;
    assert.equal(s.progress, 100);
    assert.equal(s.observedGeneration, done.metadata.generation);
    assert.ok(s.startTime && s.completionTime);
    assert.equal(s.results?.bpm, 124);
    assert.equal(s.results?.key, 'A minor');
    assert.deepEqual(
      s.results?.stems?.map((x) => x.name),
      ['bass', 'drums', 'other', 'vocals'],
    );
    assert.equal(s.conditions?.find((c) => c.type === 'Succeeded')?.status, 'True');
    assert.equal(await workflowCount(uid), 1);
    assert.deepEqual(await runsOf('song'), ['separator', 'analyzer']);

    const [row] = (await db.query('SELECT phase, completed_at FROM audio_jobs WHERE uid = $1', [
      uid,
    ])) as Array<{ phase: string; completed_at: Date | null }>;
    assert.equal(row?.phase, 'Succeeded');
    assert.ok(row.completed_at);
    const [result] = (await db.query(
      'SELECT tempo_bpm, key_label, stems, model FROM audio_results WHERE job_uid = $1',
      [uid],
    )) as Array<{ tempo_bpm: number; key_label: string; stems: Record<string, string>; model: string }>;
    assert.equal(result?.tempo_bpm, 124);
    assert.equal(result.key_label, 'A minor');
    assert.equal(result.model, 'htdemucs');
    assert.equal(result.stems.vocals, `namespaces/${namespace}/jobs/${uid}/stems/vocals.wav`);
    const vocals = s.results?.stems?.find((x) => x.name === 'vocals');
    assert.deepEqual(
      [vocals?.format, vocals?.contentType, vocals?.durationSeconds, vocals?.bytes],
      ['wav', 'audio/wav', 0.1, (await stat(join(storageRoot, result.stems.vocals!))).size],
    );

    const events = await ok([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.uid=${uid}`,
      '-o',
      'jsonpath={.items[*].reason}',
    ]);
    for (const reason of ['Running', 'Succeeded']) assert.match(events, new RegExp(`\\b${reason}\\b`));
  });

  it('a job with corrupt audio fails with reason CorruptAudio in its status and is not retried', async () => {
    const uid = await applyJob('broken', 'CORRUPT', { analyze: {} });
    const failed = await waitForJob('broken', 'Failed', (j) => j.status?.phase === 'Failed');
    const c = failed.status?.conditions?.find((x) => x.type === 'Failed');
    assert.equal(c?.status, 'True');
    assert.equal(c?.reason, 'CorruptAudio');
    assert.match(c?.message ?? '', /^analyze: .*invalid data/);
    assert.equal(failed.status?.stage, 'analyze');
    // Another poll interval or two: still one analyzer run, still Failed.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await runsOf('broken'), ['analyzer']);
    assert.equal((await getJob('broken'))?.status?.phase, 'Failed');
    const [row] = (await db.query('SELECT phase, failure_reason FROM audio_jobs WHERE uid = $1', [
      uid,
    ])) as Array<{ phase: string; failure_reason: string }>;
    assert.deepEqual(row, { phase: 'Failed', failure_reason: 'CorruptAudio' });
  });

  it('a source URL on loopback is refused before any request: Failed with reason SourceForbidden naming the address, not retried', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'audio/wav' }).end('PLAIN\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const [name, host] of [
        ['loopback', '127.0.0.1'],
        ['mapped-loopback', '[::ffff:127.0.0.1]'],
      ] as const) {
        await applyJobWithSource(name, { url: `http://${host}:${port}/track.wav` }, { analyze: {} });
        const failed = await waitForJob(name, 'Failed', (j) => j.status?.phase === 'Failed');
        const c = failed.status?.conditions?.find((x) => x.type === 'Failed');
        assert.equal(c?.reason, 'SourceForbidden');
        assert.match(
          c?.message ?? '',
          /^download: source address (127\.0\.0\.1|::ffff:7f00:1 \(IPv4 127\.0\.0\.1\)) is a loopback address/,
        );
      }
      assert.equal(hits, 0);
    } finally {
      server.close();
    }
  });

  it('a job cannot reach another namespace’s files, the model folder or anything outside its own area, by any path or symlink', async () => {
    // Another tenant's input and stems, and the model folder, on the same volume.
    const other = join(storageRoot, 'namespaces', 'other-tenant');
    await mkdir(join(other, 'in'), { recursive: true });
    await mkdir(join(other, 'jobs', 'victim-uid', 'stems'), { recursive: true });
    await mkdir(join(storageRoot, 'models'), { recursive: true });
    await writeFile(join(other, 'in', 'secret.wav'), 'PLAIN\n');
    await writeFile(join(other, 'jobs', 'victim-uid', 'stems', 'vocals.wav'), 'PLAIN\n');
    await writeFile(join(storageRoot, 'models', 'htdemucs.th'), 'PLAIN\n');
    await symlink(join(other, 'in', 'secret.wav'), join(area(), 'in', 'link-to-other.wav'));
    await symlink(other, join(area(), 'other-dir'));
    await symlink(join(storageRoot, 'models'), join(area(), 'models'));

    const attempts: Array<[string, string, string]> = [
      ['dotdot', '../other-tenant/in/secret.wav', 'PathOutsideStorage'],
      ['absolute', join(other, 'in', 'secret.wav'), 'PathOutsideStorage'],
      ['symlink', 'in/link-to-other.wav', 'PathOutsideStorage'],
      ['symlinked-dir', 'other-dir/jobs/victim-uid/stems/vocals.wav', 'PathOutsideStorage'],
      ['models', 'models/htdemucs.th', 'PathOutsideStorage'],
      // Another job's prefix is looked up in this namespace's area, where it does not exist.
      ['victim-stems', 'jobs/victim-uid/stems/vocals.wav', 'SourceNotFound'],
    ];
    for (const [name, storagePath, reason] of attempts) {
      const r = await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'switchforge.io/v1alpha1',
          kind: 'AudioJob',
          metadata: { name: `steal-${name}`, namespace },
          spec: { source: { storagePath }, stages: { analyze: {} } },
        }),
      );
      // The CRD refuses some paths outright; what it admits, the worker refuses.
      if (r.code !== 0) {
        assert.match(r.stderr, /storagePath/, `${name}: ${r.stderr}`);
        continue;
      }
      const failed = await waitForJob(`steal-${name}`, 'Failed', (j) => j.status?.phase === 'Failed');
      const c = failed.status?.conditions?.find((x) => x.type === 'Failed');
      assert.equal(c?.reason, reason, `${name}: ${c?.message}`);
    }
    // No script ever opened the other tenant's files or the model (the stand-ins log every input).
    const opened = (await readdir(stateDir)).filter((f) =>
      /^(secret\.wav|victim-uid|htdemucs\.th)\./.test(f),
    );
    assert.deepEqual(opened, []);
  });

  it('deleting a running job cancels its workflow, stops Python within 5 s, removes its files, and the object goes', async () => {
    const uid = await applyJob('doomed', 'SLOW', { separate: {} });
    await waitForJob(
      'doomed',
      'Running in separate',
      (j) => j.status?.phase === 'Running' && j.status.stage === 'separate',
    );
    const pid = await waitFor('the separator to start', () => pidOf('doomed', 'separator'));
    assert.ok(isAlive(pid));
    assert.ok(await exists(join(area(), 'jobs', uid)));

    const deletedAt = Date.now();
    await ok(['delete', 'audiojob', 'doomed', '-n', namespace, '--wait=false']);
    await waitFor('the separator to die', async () => !isAlive(pid), 5_000);
    assert.ok(Date.now() - deletedAt < 5_000);
    await waitFor('the AudioJob to be gone', async () => (await getJob('doomed')) === undefined, 15_000);
    assert.equal(await exists(join(area(), 'jobs', uid)), false);
    const desc = await client.workflow.getHandle(workflowIdForJob(uid)).describe();
    assert.equal(desc.status.name, 'CANCELLED');
  });

  it('spec.cancel: true ends a running job Cancelled and stops its Python', async () => {
    const uid = await applyJob('stopped', 'SLOW', { separate: {} });
    await waitForJob(
      'stopped',
      'Running in separate',
      (j) => j.status?.phase === 'Running' && j.status.stage === 'separate',
    );
    const pid = await waitFor('the separator to start', () => pidOf('stopped', 'separator'));
    await ok([
      'patch',
      'audiojob',
      'stopped',
      '-n',
      namespace,
      '--type',
      'merge',
      '-p',
      '{"spec":{"cancel":true}}',
    ]);
    const cancelled = await waitForJob(
      'stopped',
      'Cancelled',
      (j) => j.status?.phase === 'Cancelled',
      15_000,
    );
    assert.equal(isAlive(pid), false);
    assert.equal(cancelled.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'Cancelled');
    assert.equal(cancelled.status?.observedGeneration, cancelled.metadata.generation);
    // The object stays (only deletion removes it), with its finalizer; the workflow's cleanup removed the files.
    assert.ok(cancelled.metadata.finalizers?.includes(FINALIZER));
    assert.equal(await exists(join(area(), 'jobs', uid)), false);
    const [row] = (await db.query('SELECT phase FROM audio_jobs WHERE uid = $1', [uid])) as Array<{
      phase: string;
    }>;
    assert.equal(row?.phase, 'Cancelled');
  });

  it('the operator applies the audio worker pool Deployment at its minimum when the queues are idle', async () => {
    const dep = await waitFor('the pool Deployment', async () => {
      const r = await kubectl([
        'get',
        'deployment',
        POOL_DEPLOYMENT,
        '-n',
        namespace,
        '-o',
        'json',
        '--show-managed-fields',
      ]);
      return r.code === 0
        ? (JSON.parse(r.stdout) as {
            spec: {
              replicas: number;
              template: {
                spec: {
                  containers: Array<{
                    command: string[];
                    workingDir: string;
                    env: Array<{
                      name: string;
                      value?: string;
                      valueFrom?: { secretKeyRef?: { name: string } };
                    }>;
                  }>;
                };
              };
            };
            metadata: { managedFields: Array<{ manager: string }> };
          })
        : undefined;
    });
    assert.equal(dep.spec.replicas, 1);
    const container = dep.spec.template.spec.containers[0]!;
    assert.deepEqual(container.command, IMAGE_COMMANDS.audioWorker);
    assert.equal(container.workingDir, APP_ROOT);
    const env = new Map(container.env.map((e) => [e.name, e]));
    assert.equal(env.get('AUDIO_QUEUE_PREFIX')?.value, queuePrefix);
    assert.equal(env.get('TEMPORAL_ADDRESS')?.value, infra.temporal.address);
    assert.equal(
      env.get('SWITCHFORGE_DATABASE_URL')?.valueFrom?.secretKeyRef?.name,
      'switchforge-worker-database',
    );
    assert.ok(dep.metadata.managedFields.some((f) => f.manager === 'switchforge-operator'));
  });

  it('a backlog on the audio queues scales the pool up to what it needs, within its maximum', async () => {
    // Its own queues with no worker polling them, so the workflow tasks wait.
    const prefix = `${queuePrefix}backlog-`;
    const kc = new KubeConfig();
    kc.loadFromFile(infra.kubernetes.kubeconfig);
    const pool = readAudioOperatorConfig({
      TEMPORAL_ADDRESS: infra.temporal.address,
      AUDIO_STORAGE_ROOT: storageRoot,
      AUDIO_POOL_NAMESPACE: `${namespace}-pool`,
      AUDIO_POOL_MAX_REPLICAS: '3',
      AUDIO_POOL_BACKLOG_PER_REPLICA: '2',
    }).pool!;
    await ok(['create', 'namespace', pool.namespace]);
    const scaler = new PoolScaler(
      pool,
      { temporal: infra.temporal, queuePrefix: prefix, storageRoot },
      { apps: kc.makeApiClient(AppsV1Api), objects: KubernetesObjectApi.makeApiClient(kc), temporal: client },
    );
    const replicas = async () =>
      Number(
        (await ok([
          'get',
          'deployment',
          POOL_DEPLOYMENT,
          '-n',
          pool.namespace,
          '-o',
          'jsonpath={.spec.replicas}',
        ])) || 0,
      );
    const ids: string[] = [];
    try {
      await scaler.reconcile();
      assert.equal(await replicas(), 1);
      for (let i = 0; i < 5; i++) {
        const id = `backlog-${suffix}-${i}`;
        ids.push(id);
        await client.workflow.start('audioJobWorkflow', {
          taskQueue: `${prefix}audio-workflows`,
          workflowId: id,
          args: [{}],
        });
      }
      // Five waiting tasks at two per replica need three; the maximum is three.
      await waitFor(
        'the pool to scale up to 3',
        async () => {
          await scaler.reconcile();
          return (await replicas()) === 3;
        },
        20_000,
      );
    } finally {
      scaler.close();
      await Promise.allSettled(ids.map((id) => client.workflow.getHandle(id).terminate('test over')));
      await kubectl(['delete', 'namespace', pool.namespace, '--wait=false']);
    }
  });
});
