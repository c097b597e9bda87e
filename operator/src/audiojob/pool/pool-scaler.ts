import {
  PatchStrategy,
  type AppsV1Api,
  type KubernetesObjectApi,
  type V1Deployment,
} from '@kubernetes/client-node';
import { metrics } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { MANAGER } from '@switchforge/platform/device-worker';
import { isStatus } from '@switchforge/platform/lease';
import { log } from '@switchforge/platform/log';
import { queuesFor } from '@switchforge/platform/audio/queues';
import type { ReconcileResult, Reconciler } from '../../machinery/controller.js';
import type { PoolConfig } from '../config.js';
import { desiredReplicas } from './desired-replicas.js';
import {
  LAST_SCALE_ANNOTATION,
  POOL_DEPLOYMENT,
  desiredPoolDeployment,
  type PoolTarget,
} from './pool-deployment.js';

const meter = metrics.getMeter('switchforge-operator');
const backlogGauge = meter.createObservableGauge('switchforge.operator.audio.queue.backlog', {
  description: 'Approximate tasks waiting in an audio task queue, as the pool scaler last read it',
});
const replicasGauge = meter.createObservableGauge('switchforge.operator.audio.pool.replicas', {
  description: 'Replicas the pool scaler wants for the audio worker Deployment',
});

/** The key of the one item this controller reconciles. */
export const POOL_KEY = 'audio-worker-pool';

/**
 * Keeps the audio worker pool Deployment applied and sized from the Temporal backlog of the audio
 * queues. Requeues itself every interval: a backlog change fires no watch event.
 */
export class PoolScaler implements Reconciler {
  private lastBacklog = new Map<string, number>();
  private lastReplicas: number | undefined;
  private readonly observe = (r: { observe(v: number, a?: Record<string, string>): void }) => {
    for (const [queue, n] of this.lastBacklog) r.observe(n, { 'switchforge.audio.task_queue': queue });
  };
  private readonly observeReplicas = (r: { observe(v: number): void }) => {
    if (this.lastReplicas !== undefined) r.observe(this.lastReplicas);
  };

  constructor(
    private readonly pool: PoolConfig,
    private readonly target: PoolTarget,
    private readonly clients: { apps: AppsV1Api; objects: KubernetesObjectApi; temporal: Client },
    private readonly now: () => Date = () => new Date(),
  ) {
    backlogGauge.addCallback(this.observe);
    replicasGauge.addCallback(this.observeReplicas);
  }

  close(): void {
    backlogGauge.removeCallback(this.observe);
    replicasGauge.removeCallback(this.observeReplicas);
  }

  async reconcile(): Promise<ReconcileResult> {
    const current = await this.readDeployment();
    this.lastBacklog = await this.readBacklog();
    const backlog = [...this.lastBacklog.values()].reduce((a, b) => a + b, 0);
    const now = this.now();
    const lastText = current?.metadata?.annotations?.[LAST_SCALE_ANNOTATION];
    const last = lastText ? new Date(lastText) : undefined;
    const have = current?.spec?.replicas ?? this.pool.scaling.minReplicas;
    const want = current ? desiredReplicas(have, backlog, this.pool.scaling, last, now) : have;
    const scaled = !current || want !== have;
    const desired = desiredPoolDeployment(
      this.pool,
      this.target,
      want,
      scaled ? now.toISOString() : lastText,
    );
    this.lastReplicas = want;
    if (scaled || templateDrifted(current, desired)) {
      await this.clients.objects.patch(
        desired,
        undefined,
        undefined,
        MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
      if (scaled) log.info('scaled audio worker pool', { from: current ? have : 0, to: want, backlog });
    }
    return { requeueAfterMs: this.pool.intervalMs };
  }

  private async readDeployment(): Promise<V1Deployment | undefined> {
    try {
      return await this.clients.apps.readNamespacedDeployment({
        name: POOL_DEPLOYMENT,
        namespace: this.pool.namespace,
      });
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  }

  /** Activity tasks per stage queue, workflow tasks on the workflow queue. */
  private async readBacklog(): Promise<Map<string, number>> {
    const { TaskQueueType } = proto.temporal.api.enums.v1;
    const out = new Map<string, number>();
    for (const [kind, name] of Object.entries(queuesFor(this.target.queuePrefix))) {
      const res = await this.clients.temporal.workflowService.describeTaskQueue({
        namespace: this.target.temporal.namespace,
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
}

/** Whether the live pod template lost something we set (an edit by hand): then re-apply. */
function templateDrifted(current: V1Deployment | undefined, desired: V1Deployment): boolean {
  const live = current?.spec?.template?.spec?.containers?.[0];
  const want = desired.spec?.template?.spec?.containers?.[0];
  if (!live || !want) return true;
  return (
    live.image !== want.image ||
    JSON.stringify(live.command) !== JSON.stringify(want.command) ||
    JSON.stringify((live.env ?? []).map((e) => [e.name, e.value ?? ''])) !==
      JSON.stringify((want.env ?? []).map((e) => [e.name, e.value ?? '']))
  );
}
