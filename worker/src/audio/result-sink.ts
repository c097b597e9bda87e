import type {
  AudioJobInput,
  AudioJobResult,
  AudioStage,
  JobFailure,
} from '@switchforge/platform/audio/types';

/** Which job a record belongs to: the row in audio_jobs needs its namespace and name. */
export type SinkJob = Pick<AudioJobInput, 'jobUid' | 'namespace' | 'name'>;

/**
 * Where job progress and outcomes go besides Temporal: PostgreSQL (result-sink-postgres.ts).
 * The AudioJob's status has one writer, the operator, which reads the workflow instead.
 * Calls must be idempotent: activity retries repeat them, and late progress after an outcome
 * must not move a finished job back to Running.
 */
export interface ResultSink {
  recordProgress(job: SinkJob, stage: AudioStage, percent: number, message?: string): Promise<void>;
  recordResult(job: SinkJob, result: AudioJobResult): Promise<void>;
  /** A failure the job will not recover from (non-retryable, or retries exhausted). */
  recordFailure(job: SinkJob, failure: JobFailure): Promise<void>;
  recordCancelled(job: SinkJob): Promise<void>;
}
