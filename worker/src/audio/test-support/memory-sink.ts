import type { ResultSink, SinkJob } from '../result-sink.js';
import type { AudioJobResult, AudioStage, JobFailure } from '@switchforge/platform/audio/types';

/** For tests only: the worker's real sink writes PostgreSQL (result-sink-postgres.ts). */
export class MemoryResultSink implements ResultSink {
  readonly progress: Array<{ jobUid: string; stage: AudioStage; percent: number; message?: string }> = [];
  readonly results = new Map<string, AudioJobResult>();
  readonly failures = new Map<string, JobFailure>();
  readonly cancelled = new Set<string>();

  recordProgress(job: SinkJob, stage: AudioStage, percent: number, message?: string): Promise<void> {
    this.progress.push({ jobUid: job.jobUid, stage, percent, ...(message !== undefined ? { message } : {}) });
    return Promise.resolve();
  }
  recordResult(job: SinkJob, result: AudioJobResult): Promise<void> {
    this.results.set(job.jobUid, result);
    return Promise.resolve();
  }
  recordFailure(job: SinkJob, failure: JobFailure): Promise<void> {
    this.failures.set(job.jobUid, failure);
    return Promise.resolve();
  }
  recordCancelled(job: SinkJob): Promise<void> {
    this.cancelled.add(job.jobUid);
    return Promise.resolve();
  }
}
