/**
 * One workflow per AudioJob: the id comes from the job's uid, so an operator restart that starts
 * the workflow again gets "already started" instead of a second pipeline.
 */
export function workflowIdForJob(jobUid: string): string {
  return `audiojob-${jobUid}`;
}

/** The workflow type's name (the exported function's name in worker/src/audio/workflows.ts). */
export const AUDIO_JOB_WORKFLOW = 'audioJobWorkflow';

/** Signal and query names shared by the workflow, the activities and clients. */
export const PROGRESS_QUERY = 'progress';
export const PROGRESS_SIGNAL = 'progress';

/**
 * The Temporal header that carries W3C trace context (a JSON payload of `traceparent` and
 * `tracestate`): the name Temporal's own OpenTelemetry interceptors use, so either side may be
 * swapped for them. Workflow-safe, like everything in this module.
 */
export const TRACE_HEADER = '_tracer-data';
