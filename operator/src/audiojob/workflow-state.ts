import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { workflowIdForJob, PROGRESS_QUERY } from '@switchforge/platform/audio/workflow-id';
import type { AudioJobResult, JobFailure, JobProgress } from '@switchforge/platform/audio/types';

/** Where a job's workflow is, as the status computation needs it. */
export type WorkflowState =
  | { state: 'NotFound' }
  | { state: 'Running'; startTime: Date; progress?: JobProgress }
  | { state: 'Succeeded'; startTime: Date; closeTime?: Date; result: AudioJobResult }
  | { state: 'Failed'; startTime: Date; closeTime?: Date; failure: JobFailure }
  | { state: 'Cancelled'; startTime: Date; closeTime?: Date };

/**
 * Reads the workflow of a job: describe, then the `progress` query while it runs or the result once
 * closed. A query that gets no answer in time (no workflow worker yet) leaves progress unknown.
 */
export async function readWorkflowState(
  client: Client,
  jobUid: string,
  queryTimeoutMs: number,
): Promise<WorkflowState> {
  const handle = client.workflow.getHandle(workflowIdForJob(jobUid));
  let info;
  try {
    info = await handle.describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return { state: 'NotFound' };
    throw e;
  }
  const times = { startTime: info.startTime, ...(info.closeTime ? { closeTime: info.closeTime } : {}) };
  switch (info.status.name) {
    case 'COMPLETED':
      return { state: 'Succeeded', ...times, result: (await handle.result()) as AudioJobResult };
    case 'FAILED':
      return { state: 'Failed', ...times, failure: await failureOf(handle.result()) };
    case 'CANCELLED':
      return { state: 'Cancelled', ...times };
    case 'TERMINATED':
      return {
        state: 'Failed',
        ...times,
        failure: { stage: 'finalize', reason: 'WorkflowTerminated', message: 'the workflow was terminated' },
      };
    case 'TIMED_OUT':
      return {
        state: 'Failed',
        ...times,
        failure: { stage: 'finalize', reason: 'WorkflowTimedOut', message: 'the workflow timed out' },
      };
    default: {
      const progress = await client.connection
        .withDeadline(Date.now() + queryTimeoutMs, () => handle.query<JobProgress>(PROGRESS_QUERY))
        .catch(() => undefined);
      return { state: 'Running', startTime: info.startTime, ...(progress ? { progress } : {}) };
    }
  }
}

/** The workflow fails with ApplicationFailure(type = reason, details = [JobFailure]). */
async function failureOf(result: Promise<unknown>): Promise<JobFailure> {
  try {
    await result;
  } catch (e) {
    const cause = e instanceof WorkflowFailedError ? e.cause : e;
    if (cause instanceof ApplicationFailure) {
      const detail = cause.details?.[0] as Partial<JobFailure> | undefined;
      return {
        stage: detail?.stage ?? 'finalize',
        reason: cause.type ?? detail?.reason ?? 'WorkflowFailed',
        message: cause.message,
      };
    }
    return {
      stage: 'finalize',
      reason: 'WorkflowFailed',
      message: e instanceof Error ? e.message : String(e),
    };
  }
  return { stage: 'finalize', reason: 'WorkflowFailed', message: 'the workflow failed' };
}
