/**
 * Stems a user can fetch, in both storage modes, on real servers: an AudioJob on a kube-apiserver,
 * the operator's AudioJob controller and audio workers in-process (stand-in Python scripts that
 * write real WAV stems), Temporal, PostgreSQL, Versity Gateway as the S3 store, and the API with
 * Kubernetes TokenReview/SubjectAccessReview. A user of namespace A downloads each stem through
 * the URL GraphQL gives and gets the bytes the separator wrote; a user of namespace B cannot.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { AudioJob } from '@switchforge/platform/crd';
import { readAudioOperatorConfig, startAudioJobControllers } from '@switchforge/operator/audiojob/index';
import type { ApiServer } from '@switchforge/api/server';
import { createActivities } from '@switchforge/worker/audio/activities';
import { sweepOrphans } from '@switchforge/platform/audio/janitor';
import { PostgresResultSink } from '@switchforge/worker/audio/result-sink-postgres';
import { DEFAULT_HTTP_LIMITS } from '@switchforge/worker/audio/sources/http';
import { jobPrefix, namespaceArea } from '@switchforge/platform/audio/storage-layout';
import { openStore, readStoreConfig } from '@switchforge/platform/audio/store/store-config';
import { writeFakePythonPackage } from '@switchforge/worker/audio/test-support/fake-python';
import { bundleAudioWorkflows, runAudioWorkers } from '@switchforge/worker/audio/worker';
import { createDataSource } from '@switchforge/platform/db';
import { gql, startApiFixture, type ApiFixture } from '../api/fixture.js';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';

const suffix = randomBytes(3).toString('hex');
let fx: ApiFixture;
let infra: Infra;
let workDir: string;
let nativeConnection: NativeConnection;
let bundle: Awaited<ReturnType<typeof bundleAudioWorkflows>>;

const STEMS = `query($ns: String!, $name: String!) {
  audioJob(namespace: $ns, name: $name) {
    phase
    results { stems { name path format contentType bytes durationSeconds sha256 url urlExpiresAt } }
  }
}`;

interface StemOut {
  name: string;
  path: string;
  format: string;
  contentType: string;
  bytes: number;
  durationSeconds: number;
  sha256: string;
  url: string | null;
  urlExpiresAt: string | null;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Everything one storage mode needs, started for one test and stopped after it. */
async function pipeline(mode: 'volume' | 'object', env: Record<string, string>) {
  const root = join(workDir, mode);
  await mkdir(join(root, namespaceArea(fx.namespaces.a), 'in'), { recursive: true });
  const queuePrefix = `stems-${mode}-${suffix}-`;
  const storeEnv = { AUDIO_STORAGE_MODE: mode, ...env };
  const store = await openStore(readStoreConfig(storeEnv), root);
  // The fixture's PostgreSQL, where its schema was migrated.
  const db = createDataSource({ url: fx.infra.postgres.dsn, schema: fx.schema, poolSize: 2 });
  await db.initialize();
  const workers = await runAudioWorkers({
    connection: nativeConnection,
    namespace: infra.temporal.namespace,
    queuePrefix,
    workflowBundle: bundle,
    activities: createActivities({
      storageRoot: root,
      store,
      pythonPath: 'python3',
      pythonCwd: join(workDir, 'python'),
      httpLimits: DEFAULT_HTTP_LIMITS,
      resultSink: new PostgresResultSink(db),
      progressIntervalMs: 200,
    }),
  });
  const stopController = await startAudioJobControllers(
    fx.kubeConfig,
    readAudioOperatorConfig({
      TEMPORAL_ADDRESS: infra.temporal.address,
      TEMPORAL_NAMESPACE: infra.temporal.namespace,
      AUDIO_QUEUE_PREFIX: queuePrefix,
      AUDIO_STORAGE_ROOT: root,
      AUDIO_WATCH_NAMESPACE: fx.namespaces.a,
      AUDIO_PROGRESS_POLL: '500ms',
      AUDIO_POOL_ENABLED: 'false',
      ...storeEnv,
    }),
  );
  const api = await fx.startApi({
    audioStorage: { config: readStoreConfig(storeEnv), root, urlTtlS: 300 },
  });
  return {
    root,
    store,
    api,
    async stop() {
      await stopController();
      await workers.shutdown();
      await db.destroy();
    },
  };
}

async function applyJob(name: string, storagePath: string): Promise<AudioJob> {
  const manifest = {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'AudioJob',
    metadata: { name, namespace: fx.namespaces.a },
    spec: {
      source: { storagePath },
      stages: { separate: { model: 'htdemucs' } },
      timeouts: { download: '20s', separate: '60s', analyze: '20s' },
    },
  };
  const r = await fx.infra.kubernetes.kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
  assert.equal(r.code, 0, r.stderr);
  let job: AudioJob | undefined;
  await waitFor(
    `${name} to succeed`,
    async () => {
      const g = await fx.infra.kubernetes.kubectl([
        'get',
        'audiojob',
        name,
        '-n',
        fx.namespaces.a,
        '-o',
        'json',
      ]);
      job = JSON.parse(g.stdout) as AudioJob;
      // Thrown errors are retried and reported at the deadline: a failed job says why there.
      if (job.status?.phase === 'Failed') throw new Error(JSON.stringify(job.status.conditions));
      return job.status?.phase === 'Succeeded';
    },
    60_000,
  );
  return job!;
}

async function stemsOf(api: ApiServer, token: string, name: string): Promise<StemOut[]> {
  const r = await gql(api.url, token, STEMS, { ns: fx.namespaces.a, name });
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  const job = r.body.data?.audioJob as { results: { stems: StemOut[] } };
  return job.results.stems;
}

/** B may not see A's job, nor its stems' links, over GraphQL. */
async function assertBRefused(api: ApiServer, name: string): Promise<void> {
  const r = await gql(api.url, fx.tokens.b, STEMS, { ns: fx.namespaces.a, name });
  assert.equal(r.body.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(r.body));
  assert.equal(JSON.stringify(r.body).includes('http'), false, 'no link leaks to B');
}

describe('stems download through GraphQL, in both storage modes', () => {
  before(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    fx = await startApiFixture(`stems-${suffix}`);
    infra = await useInfra({ temporal: true, objectstore: true });
    workDir = await mkdtemp(join(tmpdir(), 'sf-stems-'));
    await writeFakePythonPackage(join(workDir, 'python'));
    process.env.FAKE_STATE_DIR = workDir;
    nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
    bundle = await bundleAudioWorkflows(new DefaultLogger('WARN'));
  });

  after(async () => {
    if (fx) {
      // The jobs keep a finalizer whose controller is gone: drop it so the namespace can go.
      const left = await fx.infra.kubernetes.kubectl([
        'get',
        'audiojobs',
        '-n',
        fx.namespaces.a,
        '-o',
        'name',
      ]);
      for (const obj of left.stdout.split('\n').filter(Boolean))
        await fx.infra.kubernetes.kubectl([
          'patch',
          obj,
          '-n',
          fx.namespaces.a,
          '--type',
          'merge',
          '-p',
          '{"metadata":{"finalizers":null}}',
        ]);
    }
    await nativeConnection?.close();
    await infra?.stop();
    await fx?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('volume: A downloads each stem from the API route with its token and gets the bytes the separator wrote; B gets 403, no token 401', async () => {
    const p = await pipeline('volume', {});
    try {
      await writeFile(join(p.root, namespaceArea(fx.namespaces.a), 'in', 'song.wav'), 'PLAIN\n');
      const job = await applyJob('song', 'in/song.wav');
      const stems = await stemsOf(p.api, fx.tokens.a, 'song');
      assert.deepEqual(
        stems.map((s) => s.name),
        ['bass', 'drums', 'other', 'vocals'],
      );
      for (const s of stems) {
        assert.ok(s.path.startsWith(`${jobPrefix(fx.namespaces.a, job.metadata.uid!)}/stems/`), s.path);
        const written = await readFile(join(p.root, s.path));
        assert.equal(s.sha256, sha256(written));
        assert.deepEqual(
          [s.format, s.contentType, s.bytes, s.durationSeconds],
          ['wav', 'audio/wav', written.length, 0.1],
        );
        assert.equal(s.urlExpiresAt, null);
        const res = await fetch(s.url!, { headers: { authorization: `Bearer ${fx.tokens.a}` } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'audio/wav');
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), s.sha256);

        const asB = await fetch(s.url!, { headers: { authorization: `Bearer ${fx.tokens.b}` } });
        assert.equal(asB.status, 403);
        assert.equal((await fetch(s.url!)).status, 401);
      }
      await assertBRefused(p.api, 'song');
    } finally {
      await p.stop();
    }
  });

  it('object storage: inputs and stems land under the job prefix in the bucket, A downloads each stem by its presigned URL; B gets no URL, a URL bent to another key is refused', async () => {
    const o = infra.objectstore;
    const bucket = `stems-${suffix}`;
    const s3 = new S3Client({
      endpoint: o.endpoint,
      region: o.region,
      forcePathStyle: true,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const input = `${namespaceArea(fx.namespaces.a)}/in/song.wav`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: input, Body: 'PLAIN\n' }));
    const p = await pipeline('object', {
      AUDIO_S3_ENDPOINT: o.endpoint,
      AUDIO_S3_BUCKET: bucket,
      AUDIO_S3_REGION: o.region,
      AUDIO_S3_ACCESS_KEY_ID: o.accessKeyId,
      AUDIO_S3_SECRET_ACCESS_KEY: o.secretAccessKey,
      AUDIO_S3_CREDENTIALS_SECRET: 'unused-pool-disabled',
    });
    try {
      const job = await applyJob('tune', 'in/song.wav');
      const own = jobPrefix(fx.namespaces.a, job.metadata.uid!);
      const stems = await stemsOf(p.api, fx.tokens.a, 'tune');
      assert.equal(stems.length, 4);
      for (const s of stems) {
        assert.ok(s.path.startsWith(`${own}/stems/`), s.path);
        // What the separator wrote, as staged in the worker's scratch folder before the upload.
        const written = await readFile(join(p.root, s.path));
        assert.equal(s.sha256, sha256(written));
        assert.ok(s.urlExpiresAt && Date.parse(s.urlExpiresAt) > Date.now());
        const res = await fetch(s.url!);
        assert.equal(res.status, 200, await res.clone().text());
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), s.sha256);
        // A signature is for one key: the same URL naming another object is refused.
        const bent = s.url!.replace(encodeURI(s.path), encodeURI(input));
        assert.notEqual(bent, s.url);
        assert.equal((await fetch(bent)).status, 403);
      }
      await assertBRefused(p.api, 'tune');

      // The janitor sweeps the bucket like the volume: an orphaned job prefix goes, the live one
      // and the namespace's inputs stay, and the usage it measures counts the bucket's objects.
      const orphan = `${jobPrefix(fx.namespaces.a, 'deleted-job')}/stems/vocals.wav`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: orphan, Body: 'x' }));
      const { removed, usage } = await sweepOrphans({
        store: p.store,
        liveUids: new Set([job.metadata.uid!]),
        minAgeMs: 0,
      });
      assert.deepEqual(removed, [`${fx.namespaces.a}/deleted-job`]);
      assert.equal(usage.get(fx.namespaces.a)?.objects, 1 + 4);
    } finally {
      await p.stop();
      s3.destroy();
    }
  });
});
