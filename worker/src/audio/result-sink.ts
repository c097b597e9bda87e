import type { AudioJobResult, AudioStage, JobFailure } from './types.js';

/**
 * Where job progress and outcomes go besides Temporal: the AudioJob's status and PostgreSQL
 * (implemented by the platform over its database and the Kubernetes status subresource).
 * Calls must be idempotent: activity retries repeat them.
 */
export interface ResultSink {
  recordProgress(jobUid: string, stage: AudioStage, percent: number, message?: string): Promise<void>;
  recordResult(jobUid: string, result: AudioJobResult): Promise<void>;
  /** A failure the job will not recover from (non-retryable, or retries exhausted). */
  recordFailure(jobUid: string, failure: JobFailure): Promise<void>;
}
