import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { queuesFor } from './queues.js';
import type { AudioJobInput, JobProgress } from './types.js';
import { PROGRESS_QUERY, workflowIdForJob } from './workflow-id.js';
import type { audioJobWorkflow } from './workflows.js';

export type AudioJobHandle = WorkflowHandle<typeof audioJobWorkflow>;

/**
 * Starts the job's workflow, or returns the one already there: running (conflict policy
 * USE_EXISTING) or closed (reuse policy REJECT_DUPLICATE). Any number of operator restarts
 * therefore yields one workflow per AudioJob uid.
 */
export async function startAudioJob(
  client: Client,
  input: AudioJobInput,
  opts: { queuePrefix?: string } = {},
): Promise<AudioJobHandle> {
  const workflowId = workflowIdForJob(input.jobUid);
  try {
    return await client.workflow.start<typeof audioJobWorkflow>('audioJobWorkflow', {
      taskQueue: queuesFor(opts.queuePrefix).workflows,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError)
      return client.workflow.getHandle<typeof audioJobWorkflow>(workflowId);
    throw e;
  }
}

/** Requests cancellation (the finalizer's first step); a job whose workflow is gone or closed is fine. */
export async function cancelAudioJob(client: Client, jobUid: string): Promise<void> {
  try {
    await client.workflow.getHandle(workflowIdForJob(jobUid)).cancel();
  } catch (e) {
    if (!(e instanceof WorkflowNotFoundError)) throw e;
  }
}

export function queryAudioJobProgress(client: Client, jobUid: string): Promise<JobProgress> {
  return client.workflow
    .getHandle<typeof audioJobWorkflow>(workflowIdForJob(jobUid))
    .query<JobProgress>(PROGRESS_QUERY);
}
