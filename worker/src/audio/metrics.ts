import { metrics } from '@opentelemetry/api';
import type { AudioStage } from '@switchforge/platform/audio/types';

const meter = metrics.getMeter('switchforge-audio-worker');

const jobDuration = meter.createHistogram('switchforge.audio.job.duration', {
  description: 'Time from workflow start to the job finishing, by outcome',
  unit: 's',
});
const stageDuration = meter.createHistogram('switchforge.audio.stage.duration', {
  description: 'Duration of one stage attempt (download, separate, analyze), by outcome',
  unit: 's',
});
const stageFailures = meter.createCounter('switchforge.audio.stage.failures', {
  description: 'Failed stage attempts, by stage and reason',
});
const queueBacklog = meter.createObservableGauge('switchforge.audio.queue.backlog', {
  description: 'Approximate tasks waiting in an audio task queue',
});

export function recordJobDuration(seconds: number, outcome: string): void {
  jobDuration.record(seconds, { 'switchforge.audio.outcome': outcome });
}

export function recordStage(
  stage: AudioStage,
  seconds: number,
  outcome: 'ok' | 'failed' | 'cancelled',
): void {
  stageDuration.record(seconds, { 'switchforge.audio.stage': stage, 'switchforge.audio.outcome': outcome });
}

export function recordStageFailure(stage: AudioStage, reason: string): void {
  stageFailures.add(1, { 'switchforge.audio.stage': stage, 'error.type': reason });
}

/** Registers the backlog source (a Temporal describe call); returns the unregister function. */
export function observeQueueBacklog(read: () => Promise<ReadonlyMap<string, number>>): () => void {
  const callback = async (result: {
    observe(value: number, attrs: Record<string, string>): void;
  }): Promise<void> => {
    const backlog = await read().catch(() => new Map<string, number>());
    for (const [queue, count] of backlog) result.observe(count, { 'switchforge.audio.task_queue': queue });
  };
  queueBacklog.addCallback(callback);
  return () => queueBacklog.removeCallback(callback);
}
