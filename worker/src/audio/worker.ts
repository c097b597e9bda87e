import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type {
  Logger,
  NativeConnection,
  WorkerOptions,
  WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import proto from '@temporalio/proto';
import type { AudioActivities } from './activities.js';
import { observeQueueBacklog } from './metrics.js';
import { DEFAULT_CONCURRENCY, queuesFor } from '@switchforge/platform/audio/queues';
import type { AudioQueues } from '@switchforge/platform/audio/queues';
import { traceActivityInterceptor } from './trace-activity-interceptor.js';

export type AudioWorkerRole = 'workflows' | 'download' | 'process' | 'analyze';
export const ALL_ROLES: readonly AudioWorkerRole[] = ['workflows', 'download', 'process', 'analyze'];

export interface RunAudioWorkersOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly activities: AudioActivities;
  /** Which pollers this process runs; all by default (a pool can split them per Deployment). */
  readonly roles?: readonly AudioWorkerRole[];
  /** Isolates queues (tests, parallel installs); the workflow derives its activity queues from it. */
  readonly queuePrefix?: string;
  readonly concurrency?: Partial<typeof DEFAULT_CONCURRENCY>;
  /**
   * A prebuilt bundle (tests bundle once per file; build it with `bundleAudioWorkflows` so it
   * carries the trace interceptors); otherwise the one `npm run build` wrote beside the compiled
   * worker (WORKFLOW_BUNDLE_FILE), or else `workflows.ts` bundled at start (sources under tsx).
   */
  readonly workflowBundle?: WorkerOptions['workflowBundle'];
  readonly identity?: string;
  /** Report `switchforge.audio.queue.backlog` for these queues. */
  readonly observeBacklog?: boolean;
}

export interface AudioWorkers {
  readonly queues: AudioQueues;
  readonly queuePrefix: string;
  /** Resolves when every worker has stopped (after `shutdown()` or a fatal error). */
  readonly done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Starts the audio Temporal workers: workflows on `audio-workflows`, and one activity worker per
 * stage queue with the design's per-process concurrency (download 3, process 2, analyze 2).
 */
export async function runAudioWorkers(opts: RunAudioWorkersOptions): Promise<AudioWorkers> {
  const queues = queuesFor(opts.queuePrefix);
  const roles = new Set(opts.roles ?? ALL_ROLES);
  const conc = { ...DEFAULT_CONCURRENCY, ...opts.concurrency };
  const base = {
    connection: opts.connection,
    namespace: opts.namespace,
    ...(opts.identity ? { identity: opts.identity } : {}),
    // Cancellation reaches an activity only with a heartbeat the server sees: send them promptly.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    // On shutdown, running activities get this long to stop their Python children.
    shutdownGraceTime: '10s',
    interceptors: { activity: [traceActivityInterceptor] },
  } satisfies Partial<WorkerOptions>;
  const { download, separate, analyze, finish, cleanup } = opts.activities;

  const workers: Worker[] = [];
  try {
    if (roles.has('workflows')) {
      const bundle = opts.workflowBundle ?? prebuiltWorkflowBundle();
      const source = bundle
        ? { workflowBundle: bundle }
        : {
            workflowsPath: moduleBeside('workflows'),
            interceptors: {
              ...base.interceptors,
              workflowModules: [moduleBeside('trace-workflow-interceptors')],
            },
          };
      workers.push(await Worker.create({ ...base, taskQueue: queues.workflows, ...source }));
    }
    if (roles.has('download')) {
      workers.push(
        await Worker.create({
          ...base,
          taskQueue: queues.download,
          activities: { download, finish, cleanup },
          maxConcurrentActivityTaskExecutions: conc.download,
        }),
      );
    }
    if (roles.has('process')) {
      workers.push(
        await Worker.create({
          ...base,
          taskQueue: queues.process,
          activities: { separate },
          maxConcurrentActivityTaskExecutions: conc.process,
        }),
      );
    }
    if (roles.has('analyze')) {
      workers.push(
        await Worker.create({
          ...base,
          taskQueue: queues.analyze,
          activities: { analyze },
          maxConcurrentActivityTaskExecutions: conc.analyze,
        }),
      );
    }
  } catch (e) {
    // A half-started set must not keep polling.
    for (const w of workers) w.shutdown();
    throw e;
  }

  const stopBacklog = opts.observeBacklog
    ? observeQueueBacklog(() => readBacklog(opts.connection, opts.namespace, queues))
    : () => undefined;
  const runs = workers.map((w) => w.run());
  const done = Promise.all(runs).then(
    () => stopBacklog(),
    (e: unknown) => {
      stopBacklog();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      throw e;
    },
  );
  return {
    queues,
    queuePrefix: opts.queuePrefix ?? '',
    done,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}

/** The audio workflows with their trace interceptors, bundled once (tests, benchmarks). */
export function bundleAudioWorkflows(logger?: Logger): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: moduleBeside('workflows'),
    workflowInterceptorModules: [moduleBeside('trace-workflow-interceptors')],
    ...(logger ? { logger } : {}),
  });
}

/**
 * The workflow bundle's file name beside the compiled worker (worker/dist/audio): built once with
 * the image (`npm run build`), so an audio worker starts without webpack bundling at run time.
 */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/** The bundle `npm run build` wrote beside this module, if any (never beside the sources). */
export function prebuiltWorkflowBundle(): { codePath: string } | undefined {
  const codePath = fileURLToPath(new URL(`./${WORKFLOW_BUNDLE_FILE}`, import.meta.url));
  return existsSync(codePath) ? { codePath } : undefined;
}

/** A module beside this one (`.ts` under tsx, `.js` once compiled). */
function moduleBeside(name: string): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./${name}${extname(self)}`, import.meta.url));
}

/** Approximate backlog per queue (activity tasks; workflow tasks for the workflow queue). */
async function readBacklog(
  connection: NativeConnection,
  namespace: string,
  queues: AudioQueues,
): Promise<Map<string, number>> {
  const { TaskQueueType } = proto.temporal.api.enums.v1;
  const out = new Map<string, number>();
  for (const [kind, name] of Object.entries(queues)) {
    const res = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name },
      taskQueueType:
        kind === 'workflows'
          ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
          : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      reportStats: true,
    });
    out.set(name, Number(res.stats?.approximateBacklogCount ?? 0));
  }
  return out;
}
