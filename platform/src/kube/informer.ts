import {
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import { metrics } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../backoff.js';
import { log } from '../log.js';

const meter = metrics.getMeter('switchforge-kube');
const watchRestarts = meter.createCounter('switchforge.kube.watch.restarts', {
  description: 'Informer watches restarted after an error (410 Gone re-lists instead)',
});

export interface InformerSpec<T extends KubernetesObject> {
  /** A name for logs and metrics, e.g. `devices`. */
  name: string;
  /** The watch path, e.g. `/apis/switchforge.io/v1alpha1/devices`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
}

export type EventHandler<T> = (obj: T, kind: 'add' | 'update' | 'delete') => void;

/**
 * What a reconciler reads from a cache (controller-runtime's typed Lister): informers satisfy
 * it, and a test hands a reconciler a plain list instead (`listerOf`).
 */
export interface Lister<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

/** A Lister over fixed objects, for reconciler tests. */
export function listerOf<T extends KubernetesObject>(objects: readonly T[]): Lister<T> {
  const inNamespace = (o: T, namespace?: string) =>
    namespace === undefined || o.metadata?.namespace === namespace;
  return {
    get: (name, namespace) => objects.find((o) => o.metadata?.name === name && inNamespace(o, namespace)),
    list: (namespace) => objects.filter((o) => inNamespace(o, namespace)),
  };
}

/**
 * A client-node informer kept alive: its watch stops on any error other than 410 (which it
 * handles by re-listing), so this restarts it with capped backoff and reports when it has synced.
 */
export class SupervisedInformer<T extends KubernetesObject> implements Lister<T> {
  private readonly informer: Informer<T> & ObjectCache<T>;
  private stopped = false;
  private synced = false;
  private restarting = false;
  private failures = 0;
  private lastError: unknown;

  constructor(
    kubeConfig: KubeConfig,
    private readonly spec: InformerSpec<T>,
  ) {
    // The first list goes through the same trim as watch events.
    const list = async () => {
      const result = await spec.list();
      for (const item of result.items) trimForCache(item);
      return result;
    };
    this.informer = makeInformer(kubeConfig, spec.path, list, spec.labelSelector);
    // Handlers run on the cached object itself: trimming here trims the cache (client-go's
    // TransformFunc). Registered first, so every other handler sees the trimmed object.
    for (const event of ['add', 'update'] as const) this.informer.on(event, (o: T) => trimForCache(o));
    this.informer.on('error', (err: unknown) => {
      this.lastError = err;
      // Before the first sync, start() retries itself; afterwards one restart at a time.
      if (!this.stopped && this.synced && !this.restarting) void this.restart();
    });
  }

  on(handler: EventHandler<T>): void {
    this.informer.on('add', (o) => handler(o, 'add'));
    this.informer.on('update', (o) => handler(o, 'update'));
    this.informer.on('delete', (o) => handler(o, 'delete'));
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Starts watching and resolves once the first list has landed in the cache. */
  async start(): Promise<void> {
    this.stopped = false;
    for (;;) {
      this.lastError = undefined;
      await this.informer.start();
      if (this.lastError === undefined) break;
      if (this.stopped) return;
      log.warn(`list ${this.spec.name} failed, retrying`, { error: String(this.lastError).slice(0, 300) });
      await this.backoff();
    }
    this.failures = 0;
    this.synced = true;
  }

  private async restart(): Promise<void> {
    this.restarting = true;
    try {
      for (;;) {
        watchRestarts.add(1, { informer: this.spec.name });
        log.warn(`watch ${this.spec.name} failed, restarting`, {
          error: String(this.lastError).slice(0, 300),
        });
        await this.backoff();
        if (this.stopped) return;
        this.lastError = undefined;
        await this.informer.start();
        if (this.lastError === undefined) break;
      }
      this.failures = 0;
    } finally {
      this.restarting = false;
    }
  }

  private async backoff(): Promise<void> {
    await sleep(backoffDelay(this.failures++, { baseMs: 250, capMs: 30_000 }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }
}

/**
 * managedFields are the server-side-apply bookkeeping of every field manager: often half an
 * object's size, and nothing a controller reads. Dropped from cached objects, as controller-runtime
 * suggests for large caches (a 1,000-Device operator holds Deployments, Pods and Leases).
 */
export function trimForCache(obj: KubernetesObject): void {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
}

export function keyOf(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
