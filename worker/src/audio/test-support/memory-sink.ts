import type { ResultSink } from '../result-sink.js';
import type { AudioJobResult, AudioStage, JobFailure } from '../types.js';

/** For tests only: the platform's sink writes PostgreSQL and the AudioJob status. */
export class MemoryResultSink implements ResultSink {
  readonly progress: Array<{ jobUid: string; stage: AudioStage; percent: number; message?: string }> = [];
  readonly results = new Map<string, AudioJobResult>();
  readonly failures = new Map<string, JobFailure>();

  recordProgress(jobUid: string, stage: AudioStage, percent: number, message?: string): Promise<void> {
    this.progress.push({ jobUid, stage, percent, ...(message !== undefined ? { message } : {}) });
    return Promise.resolve();
  }
  recordResult(jobUid: string, result: AudioJobResult): Promise<void> {
    this.results.set(jobUid, result);
    return Promise.resolve();
  }
  recordFailure(jobUid: string, failure: JobFailure): Promise<void> {
    this.failures.set(jobUid, failure);
    return Promise.resolve();
  }
}
