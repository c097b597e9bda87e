import { LATENCY_BUCKETS_SECONDS } from '@switchforge/platform/telemetry/buckets';
import { metrics } from '@opentelemetry/api';
import { log } from '@switchforge/platform/log';
import { errorMessage } from '@switchforge/platform/errors';
import { WorkQueue } from './work-queue.js';

export interface ReconcileResult {
  /** Look at this key again after this long even if nothing changes (e.g. a lease expiring). */
  requeueAfterMs?: number;
}

/** controller-runtime's contract: a function of a key; throw for a retryable failure. */
export interface Reconciler {
  reconcile(key: string): Promise<ReconcileResult | void>;
}

const meter = metrics.getMeter('switchforge-operator');
const reconcileDuration = meter.createHistogram('switchforge.operator.reconcile.duration', {
  advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
  description: 'Time taken by one reconcile of one key',
  unit: 's',
});
const reconcileErrors = meter.createCounter('switchforge.operator.reconcile.errors', {
  description: 'Reconciles that failed and were requeued with backoff',
});
const queueDepth = meter.createObservableGauge('switchforge.operator.workqueue.depth', {
  description: 'Keys waiting in a controller work queue',
});
const queues = new Map<string, WorkQueue>();
queueDepth.addCallback((result) => {
  for (const [name, q] of queues) result.observe(q.length, { controller: name });
});

/**
 * Runs a Reconciler over a work queue with `workers` concurrent loops. Watching and mapping
 * events to keys is the caller's job (`enqueue`); backoff, dedup and per-key exclusion are here.
 */
export class Controller {
  readonly queue = new WorkQueue();
  private loops: Promise<void>[] = [];

  constructor(
    readonly name: string,
    private readonly reconciler: Reconciler,
    private readonly workers = 4,
  ) {
    queues.set(name, this.queue);
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    for (let i = 0; i < this.workers; i++) this.loops.push(this.loop());
  }

  private async loop(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = performance.now();
      try {
        const result = await this.reconciler.reconcile(key);
        this.queue.forget(key);
        if (result?.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
        reconcileDuration.record((performance.now() - started) / 1000, {
          controller: this.name,
          result: 'success',
        });
      } catch (e) {
        const delay = this.queue.addRateLimited(key);
        reconcileErrors.add(1, { controller: this.name });
        reconcileDuration.record((performance.now() - started) / 1000, {
          controller: this.name,
          result: 'error',
        });
        log.warn('reconcile failed, requeued', {
          controller: this.name,
          key,
          error: errorMessage(e),
          retryInMs: delay,
        });
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Stops taking keys and waits for the reconciles in flight (graceful shutdown). */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.loops);
    queues.delete(this.name);
  }
}
