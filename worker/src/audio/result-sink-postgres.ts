/**
 * The ResultSink over PostgreSQL (TypeORM, cold path): one row per job in audio_jobs, one per
 * finished job in audio_results. Every call is idempotent under activity retries, and a job that
 * has an outcome keeps it: late or repeated progress never moves it back to Running.
 */
import type { DataSource, EntityManager, Repository } from 'typeorm';
import { AudioJobEntity, AudioResultEntity } from '@switchforge/platform/db';
import type { AudioJobPhase, AudioJobRecord, AudioResultRecord } from '@switchforge/platform/db';
import type { ResultSink, SinkJob } from './result-sink.js';
import type { AudioJobResult, AudioStage, JobFailure } from '@switchforge/platform/audio/types';
import { workflowIdForJob } from '@switchforge/platform/audio/workflow-id';

const TERMINAL: readonly AudioJobPhase[] = ['Succeeded', 'Failed', 'Cancelled'];

export class PostgresResultSink implements ResultSink {
  constructor(private readonly db: DataSource) {}

  async recordProgress(job: SinkJob, stage: AudioStage, percent: number, message?: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await ensureJobRow(m, job);
      await m
        .createQueryBuilder()
        .update(AudioJobEntity)
        .set({ phase: 'Running', stage, progress: clampPercent(percent), message: message ?? null })
        .where('uid = :uid AND phase NOT IN (:...terminal)', { uid: job.jobUid, terminal: TERMINAL })
        .execute();
    });
  }

  async recordResult(job: SinkJob, result: AudioJobResult): Promise<void> {
    await this.db.transaction(async (m) => {
      await ensureJobRow(m, job);
      // jsonb columns are typed as records the ORM's deep-partial type cannot follow.
      const row = resultRow(job.jobUid, result) as Parameters<Repository<AudioResultRecord>['upsert']>[0];
      await m.getRepository(AudioResultEntity).upsert(row, {
        conflictPaths: ['jobUid'],
        skipUpdateIfNoValuesChanged: true,
      });
      await finishJob(m, job.jobUid, {
        phase: 'Succeeded',
        progress: 100,
        message: null,
        failureReason: null,
      });
    });
  }

  async recordFailure(job: SinkJob, failure: JobFailure): Promise<void> {
    await this.db.transaction(async (m) => {
      await ensureJobRow(m, job);
      await finishJob(m, job.jobUid, {
        phase: 'Failed',
        ...(failure.stage !== 'finalize' ? { stage: failure.stage } : {}),
        message: failure.message,
        failureReason: failure.reason,
      });
    });
  }

  async recordCancelled(job: SinkJob): Promise<void> {
    await this.db.transaction(async (m) => {
      await ensureJobRow(m, job);
      await finishJob(m, job.jobUid, { phase: 'Cancelled' });
    });
  }
}

/** Inserts the job's row if it is not there yet (the first progress report usually does it). */
async function ensureJobRow(m: EntityManager, job: SinkJob): Promise<void> {
  await m
    .createQueryBuilder()
    .insert()
    .into(AudioJobEntity)
    .values({
      uid: job.jobUid,
      namespace: job.namespace,
      name: job.name,
      workflowId: workflowIdForJob(job.jobUid),
      phase: 'Pending',
      progress: 0,
    })
    .orIgnore()
    .execute();
}

/** Sets the outcome once: the first terminal phase and its completion time stay. */
async function finishJob(
  m: EntityManager,
  uid: string,
  set: Partial<Pick<AudioJobRecord, 'phase' | 'stage' | 'progress' | 'message' | 'failureReason'>>,
): Promise<void> {
  await m
    .createQueryBuilder()
    .update(AudioJobEntity)
    .set({ ...set, completedAt: () => 'COALESCE(completed_at, now())' })
    .where('uid = :uid AND (phase NOT IN (:...terminal) OR phase = :phase)', {
      uid,
      terminal: TERMINAL,
      phase: set.phase,
    })
    .execute();
}

function resultRow(jobUid: string, r: AudioJobResult): Omit<AudioResultRecord, 'createdAt'> {
  const a = r.analysis;
  return {
    jobUid,
    durationS: a?.durationS ?? null,
    tempoBpm: a?.tempo?.bpm ?? null,
    tempoConfidence: a?.tempo?.confidence ?? null,
    keyLabel: a?.key?.label ?? null,
    keyConfidence: a?.key?.confidence ?? null,
    loudnessLufs: a?.loudnessLufs ?? null,
    // Everything the analyzer returned, and the input it ran on, for the API to serve.
    features: { ...(a ?? {}), input: r.input } as Record<string, unknown>,
    stems: { ...(r.separation?.stems ?? {}) },
    model: r.separation?.model ?? null,
  };
}

function clampPercent(p: number): number {
  return Math.max(0, Math.min(100, p));
}
