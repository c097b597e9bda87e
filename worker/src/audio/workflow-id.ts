/**
 * One workflow per AudioJob: the id comes from the job's uid, so an operator restart that starts
 * the workflow again gets "already started" instead of a second pipeline.
 */
export function workflowIdForJob(jobUid: string): string {
  return `audiojob-${jobUid}`;
}

/** Signal and query names shared by the workflow, the activities and clients. */
export const PROGRESS_QUERY = 'progress';
export const PROGRESS_SIGNAL = 'progress';
