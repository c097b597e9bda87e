import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { AudioJobWorkflow } from '@switchforge/platform/audio/client';
import type { AudioActivities } from './activities.js';
import { NON_RETRYABLE_AUDIO_ERRORS } from '@switchforge/platform/audio/errors-list';
import { prefixOf, queuesFor } from '@switchforge/platform/audio/queues';
import { DEFAULT_TIMEOUTS } from '@switchforge/platform/audio/types';
import type {
  AudioJobInput,
  AudioJobResult,
  AudioStage,
  JobFailure,
  JobProgress,
  ProgressUpdate,
} from '@switchforge/platform/audio/types';
import { PROGRESS_QUERY, PROGRESS_SIGNAL } from '@switchforge/platform/audio/workflow-id';

export const progressQuery = defineQuery<JobProgress>(PROGRESS_QUERY);
export const progressSignal = defineSignal<[ProgressUpdate]>(PROGRESS_SIGNAL);

/**
 * One AudioJob: download → separate → analyze. Progress is held here (query `progress`), fed by
 * the activities' signals and by each stage's end. Cancelling the workflow waits until the running
 * activity has stopped its Python child, then removes the job's files.
 */
export async function audioJobWorkflow(job: AudioJobInput): Promise<AudioJobResult> {
  let progress: JobProgress = { phase: 'Pending', percent: 0 };
  setHandler(progressQuery, () => progress);
  setHandler(progressSignal, (u) => {
    // Late signals from a finished stage or a dead attempt must not move progress backwards.
    if (progress.phase === 'Running' && u.stage === progress.stage) {
      progress = {
        phase: 'Running',
        stage: u.stage,
        percent: u.percent,
        ...(u.message ? { message: u.message } : {}),
      };
    }
  });
  const startedAtMs = workflowInfo().startTime.getTime();
  const acts = stageActivities(job);
  const enter = (stage: AudioStage): void => {
    progress = { phase: 'Running', stage, percent: 0 };
  };

  try {
    enter('download');
    const input = await acts.download.download({ job });
    let result: AudioJobResult = { jobUid: job.jobUid, input };
    if (job.separate) {
      enter('separate');
      result = { ...result, separation: await acts.separate.separate({ job, inputPath: input.inputPath }) };
    }
    if (job.analyze) {
      enter('analyze');
      result = { ...result, analysis: await acts.analyze.analyze({ job, inputPath: input.inputPath }) };
    }
    progress = { phase: 'Succeeded', percent: 100 };
    await acts.finish.finish({ job, outcome: { outcome: 'Succeeded', result }, startedAtMs });
    return result;
  } catch (e) {
    if (isCancellation(e)) {
      progress = { ...progress, phase: 'Cancelled' };
      await CancellationScope.nonCancellable(async () => {
        await acts.finish.cleanup({ job });
        await acts.finish.finish({ job, outcome: { outcome: 'Cancelled' }, startedAtMs });
      });
      throw e;
    }
    const failure = failureOf(e, progress.stage ?? 'download');
    progress = { ...progress, phase: 'Failed', failure };
    await acts.finish.finish({ job, outcome: { outcome: 'Failed', failure }, startedAtMs });
    // The workflow fails with the reason as its type, so `describe` shows it too; the details
    // carry the whole JobFailure (with its stage) for the operator's status.
    throw ApplicationFailure.create({
      type: failure.reason,
      message: failure.message,
      nonRetryable: true,
      details: [failure],
      cause: e as Error,
    });
  }
}

/** One proxy per stage: its own queue, timeouts from the job, and retries bad input never gets. */
function stageActivities(job: AudioJobInput) {
  const q = queuesFor(prefixOf(workflowInfo().taskQueue));
  const t = { ...DEFAULT_TIMEOUTS, ...job.timeouts };
  const common: ActivityOptions = {
    heartbeatTimeout: t.heartbeatMs ?? DEFAULT_TIMEOUTS.heartbeatMs ?? 30_000,
    // Wait for the activity to confirm: its Python child is dead before cleanup removes files.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
  const retry = (maximumAttempts: number) => ({
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts,
    nonRetryableErrorTypes: [...NON_RETRYABLE_AUDIO_ERRORS],
  });
  return {
    download: proxyActivities<Pick<AudioActivities, 'download'>>({
      ...common,
      taskQueue: q.download,
      startToCloseTimeout: t.downloadMs,
      retry: retry(5),
    }),
    separate: proxyActivities<Pick<AudioActivities, 'separate'>>({
      ...common,
      taskQueue: q.process,
      startToCloseTimeout: t.separateMs,
      retry: retry(3),
    }),
    analyze: proxyActivities<Pick<AudioActivities, 'analyze'>>({
      ...common,
      taskQueue: q.analyze,
      startToCloseTimeout: t.analyzeMs,
      retry: retry(3),
    }),
    // Bookkeeping rides the I/O queue; it must succeed, so it retries until it does.
    finish: proxyActivities<Pick<AudioActivities, 'finish' | 'cleanup'>>({
      taskQueue: q.download,
      startToCloseTimeout: '1m',
      retry: { initialInterval: '1s', maximumInterval: '1m' },
    }),
  };
}

/** Why a stage failed, in the terms the job status uses. */
function failureOf(e: unknown, stage: AudioStage): JobFailure {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof ApplicationFailure) {
    return { stage, reason: cause.type ?? 'ActivityFailed', message: cause.message };
  }
  if (cause instanceof TimeoutFailure) {
    return { stage, reason: 'StageTimeout', message: `${stage} timed out (${cause.timeoutType})` };
  }
  return { stage, reason: 'ActivityFailed', message: e instanceof Error ? e.message : String(e) };
}

// The contract clients start the workflow by (platform/audio/client.ts), checked here.
audioJobWorkflow satisfies AudioJobWorkflow;
