import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, migrate } from '@switchforge/platform/db';
import { useInfra, type Infra } from '@switchforge/testkit';
import { PostgresResultSink } from './result-sink-postgres.js';
import type { AudioJobResult } from '@switchforge/platform/audio/types';

const schema = `sink_${randomBytes(4).toString('hex')}`;
let infra: Infra;
let db: DataSource;
let sink: PostgresResultSink;

const job = () => ({ jobUid: randomUUID(), namespace: 'music', name: `t-${randomBytes(3).toString('hex')}` });
const result = (jobUid: string): AudioJobResult => ({
  jobUid,
  input: { inputPath: `jobs/${jobUid}/input/source.wav`, bytes: 3, sha256: 'ab' },
  separation: {
    stems: { vocals: `jobs/${jobUid}/stems/vocals.wav` },
    model: 'htdemucs',
    device: 'cpu',
    sampleRate: 44100,
  },
  analysis: { durationS: 3.5, tempo: { bpm: 124, confidence: 0.9 }, loudnessLufs: -9.5 },
});
const jobRow = async (uid: string) =>
  (
    (await db.query(
      'SELECT phase, stage, progress, failure_reason, completed_at FROM audio_jobs WHERE uid = $1',
      [uid],
    )) as Array<{
      phase: string;
      stage: string | null;
      progress: number;
      failure_reason: string | null;
      completed_at: Date | null;
    }>
  )[0];

describe('PostgresResultSink on a real PostgreSQL', () => {
  before(async () => {
    infra = await useInfra({ postgres: true });
    await migrate({ url: infra.postgres.dsn, schema });
    db = createDataSource({ url: infra.postgres.dsn, schema, poolSize: 2 });
    await db.initialize();
    sink = new PostgresResultSink(db);
  });
  after(async () => {
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db?.destroy();
    await infra?.stop();
  });

  it('progress creates the job row and moves it forward', async () => {
    const j = job();
    await sink.recordProgress(j, 'download', 40, 'fetching');
    await sink.recordProgress(j, 'separate', 10);
    const row = await jobRow(j.jobUid);
    assert.equal(row?.phase, 'Running');
    assert.equal(row.stage, 'separate');
    assert.equal(row.progress, 10);
  });

  it('a result recorded twice (an activity retry) leaves one result row and the first completion time', async () => {
    const j = job();
    await sink.recordResult(j, result(j.jobUid));
    const first = (await jobRow(j.jobUid))?.completed_at;
    await sink.recordResult(j, result(j.jobUid));
    const rows = (await db.query('SELECT tempo_bpm, stems, model FROM audio_results WHERE job_uid = $1', [
      j.jobUid,
    ])) as unknown[];
    assert.deepEqual(rows, [
      { tempo_bpm: 124, stems: { vocals: `jobs/${j.jobUid}/stems/vocals.wav` }, model: 'htdemucs' },
    ]);
    const row = await jobRow(j.jobUid);
    assert.equal(row?.phase, 'Succeeded');
    assert.equal(row.progress, 100);
    assert.deepEqual(row.completed_at, first);
  });

  it('late progress after an outcome does not move the job back to Running', async () => {
    const j = job();
    await sink.recordFailure(j, { stage: 'analyze', reason: 'CorruptAudio', message: 'bad frame' });
    await sink.recordProgress(j, 'analyze', 50);
    await sink.recordCancelled(j);
    const row = await jobRow(j.jobUid);
    assert.equal(row?.phase, 'Failed');
    assert.equal(row.failure_reason, 'CorruptAudio');
    assert.equal(row.stage, 'analyze');
  });
});
