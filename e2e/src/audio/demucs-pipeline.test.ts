/**
 * The real Python path: one audio workflow on the Temporal dev server whose activities run
 * python-workers' separator (Demucs, model `demucs_unittest`: built in code, no download) and
 * analyzer (librosa) on three seconds of synthesized WAV, with results stored in PostgreSQL.
 * Needs the python-workers venv (`python-workers/setup.sh`); skipped, saying so, without it.
 */
import { synthWav } from './synth-wav.js';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate } from '@switchforge/platform/db';
import { useInfra, type Infra } from '@switchforge/testkit';
import { createActivities } from '@switchforge/worker/audio/activities';
import { startAudioJob } from '@switchforge/platform/audio/client';
import { PostgresResultSink } from '@switchforge/worker/audio/result-sink-postgres';
import { DEFAULT_HTTP_LIMITS } from '@switchforge/worker/audio/sources/http';
import { jobPrefix, namespaceArea } from '@switchforge/platform/audio/storage-layout';
import { runAudioWorkers, type AudioWorkers } from '@switchforge/worker/audio/worker';
import { VENV_NOT_READY, pythonWorkers, readyVenvPython } from './venv-python.js';

const python = readyVenvPython();
const skip = python ? false : VENV_NOT_READY;

describe('the audio workflow with the real Demucs separator and analyzer', { skip }, () => {
  const suffix = randomBytes(4).toString('hex');
  const schema = `demucs_${suffix}`;
  let infra: Infra;
  let workDir: string;
  let storageRoot: string;
  let db: DataSource;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let workers: AudioWorkers;

  before(async () => {
    infra = await useInfra({ postgres: true, temporal: true });
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    workDir = await mkdtemp(join(tmpdir(), 'sf-demucs-'));
    storageRoot = join(workDir, 'storage');
    await mkdir(join(storageRoot, namespaceArea('music'), 'in'), { recursive: true });
    await writeFile(join(storageRoot, namespaceArea('music'), 'in', 'tone.wav'), synthWav(3));
    await migrate({ url: infra.postgres.dsn, schema });
    db = createDataSource({ url: infra.postgres.dsn, schema, poolSize: 2 });
    await db.initialize();
    nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
    connection = await Connection.connect({ address: infra.temporal.address });
    workers = await runAudioWorkers({
      connection: nativeConnection,
      namespace: infra.temporal.namespace,
      queuePrefix: `demucs-${suffix}-`,
      activities: createActivities({
        storageRoot,
        pythonPath: python!,
        pythonCwd: pythonWorkers,
        httpLimits: DEFAULT_HTTP_LIMITS,
        resultSink: new PostgresResultSink(db),
      }),
    });
  });

  after(async () => {
    await workers?.shutdown();
    await nativeConnection?.close();
    await connection?.close();
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db?.destroy();
    await infra?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it(
    'separates three seconds of WAV into stem files and stores the analysis',
    { timeout: 240_000 },
    async () => {
      const jobUid = randomUUID();
      const client = new Client({ connection, namespace: infra.temporal.namespace });
      const handle = await startAudioJob(
        client,
        {
          jobUid,
          namespace: 'music',
          name: 'tone',
          source: { storagePath: 'in/tone.wav' },
          separate: { model: 'demucs_unittest', stems: 'all', shifts: 1, device: 'cpu' },
          analyze: { features: ['tempo', 'key', 'loudness', 'spectral', 'onsets', 'energy'] },
          outputPrefix: jobPrefix('music', jobUid),
          timeouts: { downloadMs: 30_000, separateMs: 180_000, analyzeMs: 120_000, heartbeatMs: 30_000 },
        },
        { queuePrefix: workers.queuePrefix },
      );
      const result = await handle.result().catch((e: unknown) => {
        // The failure's type and message (the Python error) say more than "execution failed".
        const cause = e instanceof WorkflowFailedError ? e.cause : undefined;
        throw new Error(
          `workflow failed: ${cause instanceof ApplicationFailure ? `${cause.type}: ` : ''}${cause?.message ?? String(e)}`,
        );
      });

      const stems = Object.entries(result.separation?.stems ?? {});
      assert.ok(stems.length >= 2, `expected stems, got ${JSON.stringify(result.separation)}`);
      for (const [name, path] of stems) {
        assert.ok(path.startsWith(`${jobPrefix('music', jobUid)}/`), `${name} at ${path}`);
        assert.ok((await stat(join(storageRoot, path))).size > 44, `${name} is an empty WAV`);
      }
      assert.ok(
        Math.abs((result.analysis?.durationS ?? 0) - 3) < 0.1,
        `duration ${result.analysis?.durationS}`,
      );

      const rows = (await db.query('SELECT duration_s, stems, model FROM audio_results WHERE job_uid = $1', [
        jobUid,
      ])) as Array<{
        duration_s: number;
        stems: Record<string, string>;
        model: string;
      }>;
      assert.equal(rows.length, 1);
      assert.ok(Math.abs(rows[0]!.duration_s - 3) < 0.1);
      assert.equal(rows[0]!.model, 'demucs_unittest');
      assert.deepEqual(Object.keys(rows[0]!.stems).sort(), stems.map(([n]) => n).sort());
      const [job] = (await db.query('SELECT phase FROM audio_jobs WHERE uid = $1', [jobUid])) as Array<{
        phase: string;
      }>;
      assert.equal(job?.phase, 'Succeeded');
    },
  );
});
