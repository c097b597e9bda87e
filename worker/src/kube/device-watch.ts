/**
 * The worker's view of its one Device: a list then a watch on `metadata.name=<device>`, kept
 * alive across errors (a 410 Gone or an expired resourceVersion re-lists), as an informer for a
 * single object. Handlers see every change after the first list.
 *
 * The Device handed over is the one the worker collects for (`deviceAsCollected`): with a
 * profileRef, its spec is the merged one the operator wrote to status.effectiveSpec, and a Device
 * whose merged spec is not written yet is not there for the worker.
 */
import { metrics } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEVICE, GROUP, VERSION, deviceAsCollected, type Device } from '@switchforge/platform/crd';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { Backoff } from '@switchforge/platform/backoff';
import { KubeStatusError, type KubeConnection } from './kube-connection.js';

const watchRestarts = metrics.getMeter('switchforge-kube').createCounter('switchforge.kube.watch.restarts', {
  description: 'Informer watches restarted after an error (410 Gone re-lists instead)',
});

interface DeviceList {
  metadata: { resourceVersion?: string };
  items: Device[];
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object:
    Device | { kind: 'Status'; code?: number; message?: string; metadata?: { resourceVersion?: string } };
}

export type DeviceHandler = (device: Device, kind: 'add' | 'update' | 'delete') => void;

export class DeviceWatch {
  private device: Device | undefined;
  private resourceVersion = '';
  private readonly handlers: DeviceHandler[] = [];
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly kube: KubeConnection,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  private get path(): string {
    return `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(this.namespace)}/${DEVICE.plural}`;
  }

  private get selector(): string {
    return `fieldSelector=${encodeURIComponent(`metadata.name=${this.name}`)}`;
  }

  on(handler: DeviceHandler): void {
    this.handlers.push(handler);
  }

  get current(): Device | undefined {
    return this.device;
  }

  /** Lists (retrying with backoff until the apiserver answers), then watches in the background. */
  async start(): Promise<Device | undefined> {
    const backoff = new Backoff({ baseMs: 250, capMs: 30_000 });
    for (;;) {
      try {
        await this.list();
        break;
      } catch (e) {
        if (this.stopping.signal.aborted) return undefined;
        log.warn('list device failed, retrying', { error: errorMessage(e).slice(0, 300) });
        await sleep(backoff.next(), undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
    this.loop = this.watchLoop();
    return this.device;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async list(): Promise<void> {
    const list = await this.kube.json<DeviceList>('GET', `${this.path}?${this.selector}`);
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    const listed = list.items.find((d) => d.metadata.name === this.name);
    const found = listed && deviceAsCollected(listed);
    // Listed, but its profile's merge not written yet: as good as unchanged.
    if (listed && !found) return;
    const before = this.device;
    this.device = found;
    if (found && before && found.metadata.resourceVersion !== before.metadata.resourceVersion)
      this.emit(found, 'update');
    else if (found && !before && this.loop) this.emit(found, 'add');
    else if (!found && before) this.emit(before, 'delete');
  }

  private emit(device: Device, kind: 'add' | 'update' | 'delete'): void {
    for (const h of this.handlers) h(device, kind);
  }

  private async watchLoop(): Promise<void> {
    const { signal } = this.stopping;
    const backoff = new Backoff({ baseMs: 250, capMs: 30_000 });
    while (!signal.aborted) {
      try {
        // A server-side timeout ends the stream cleanly every few minutes: then watch again.
        await this.kube.stream(
          `${this.path}?${this.selector}&watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${this.resourceVersion}`,
          (event) => this.onEvent(event as WatchEvent),
          signal,
        );
        backoff.reset();
      } catch (e) {
        if (signal.aborted) return;
        const gone = e instanceof KubeStatusError && e.code === 410;
        if (!gone) {
          watchRestarts.add(1, { informer: 'device' });
          log.warn('watch device failed, restarting', { error: errorMessage(e).slice(0, 300) });
          await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
        }
        await this.list().catch((err: unknown) =>
          log.warn('re-list device failed', { error: errorMessage(err).slice(0, 300) }),
        );
      }
    }
  }

  private onEvent(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; message?: string };
      // 410: the resourceVersion is too old; the loop re-lists.
      throw new KubeStatusError(status.code ?? 500, 'WatchError', status.message ?? 'watch error');
    }
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const device = event.object as Device;
    if (device.metadata.name !== this.name) return;
    if (event.type === 'DELETED') {
      this.device = undefined;
      this.emit(device, 'delete');
      return;
    }
    // A profileRef whose merge the operator has not written yet: keep collecting as before.
    const collected = deviceAsCollected(device);
    if (!collected) return;
    const kind = this.device ? 'update' : 'add';
    this.device = collected;
    this.emit(collected, kind);
  }
}
