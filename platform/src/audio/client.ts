import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { queuesFor } from './queues.js';
import type { AudioJobInput, AudioJobResult } from './types.js';
import { AUDIO_JOB_WORKFLOW, workflowIdForJob } from './workflow-id.js';

/** The workflow's signature; worker/src/audio/workflows.ts is checked against it. */
export type AudioJobWorkflow = (job: AudioJobInput) => Promise<AudioJobResult>;
export type AudioJobHandle = WorkflowHandle<AudioJobWorkflow>;

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
    return await client.workflow.start<AudioJobWorkflow>(AUDIO_JOB_WORKFLOW, {
      taskQueue: queuesFor(opts.queuePrefix).workflows,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError)
      return client.workflow.getHandle<AudioJobWorkflow>(workflowId);
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
