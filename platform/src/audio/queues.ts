/**
 * Task queue names. Workflow-safe (no imports): the workflow derives its activity queues from the
 * queue it runs on, so tests (and parallel deployments) can isolate with a prefix.
 */
export const WORKFLOW_QUEUE = 'audio-workflows';

export interface AudioQueues {
  readonly workflows: string;
  readonly download: string;
  readonly process: string;
  readonly analyze: string;
}

export function queuesFor(prefix = ''): AudioQueues {
  return {
    workflows: `${prefix}${WORKFLOW_QUEUE}`,
    download: `${prefix}audio-download`,
    process: `${prefix}audio-process`,
    analyze: `${prefix}audio-analyze`,
  };
}

/** The prefix of a workflow queue name (`''` for `audio-workflows`). */
export function prefixOf(workflowQueue: string): string {
  return workflowQueue.endsWith(WORKFLOW_QUEUE) ? workflowQueue.slice(0, -WORKFLOW_QUEUE.length) : '';
}

/** Per worker process, from the original design. */
export const DEFAULT_CONCURRENCY = { download: 3, process: 2, analyze: 2 } as const;
