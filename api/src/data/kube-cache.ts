import { EventEmitter } from 'node:events';
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { AUDIO_JOB, DEVICE, GROUP, VERSION, type AudioJob, type Device } from '@switchforge/platform/crd';
import { SupervisedInformer } from '@switchforge/platform/kube';

export type CacheEvent<T> = { kind: 'add' | 'update' | 'delete'; object: T };

/**
 * Devices and audio jobs as the apiserver holds them, through informers (Kubernetes is the
 * source of truth; the API keeps no state of its own about what exists). Change events feed the
 * status and progress subscriptions.
 */
export class KubeCache {
  readonly devices: SupervisedInformer<Device>;
  readonly audioJobs: SupervisedInformer<AudioJob>;
  private readonly events = new EventEmitter();

  constructor(kubeConfig: KubeConfig) {
    const api = kubeConfig.makeApiClient(CustomObjectsApi);
    const list =
      <T extends KubernetesObject>(plural: string) =>
      async (): Promise<KubernetesListObject<T>> =>
        (await api.listClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural,
        })) as KubernetesListObject<T>;
    this.devices = new SupervisedInformer<Device>(kubeConfig, {
      name: 'devices',
      path: `/apis/${GROUP}/${VERSION}/${DEVICE.plural}`,
      list: list<Device>(DEVICE.plural),
    });
    this.audioJobs = new SupervisedInformer<AudioJob>(kubeConfig, {
      name: 'audiojobs',
      path: `/apis/${GROUP}/${VERSION}/${AUDIO_JOB.plural}`,
      list: list<AudioJob>(AUDIO_JOB.plural),
    });
    // Many subscriptions listen; each one is bounded by its own queue, not by the emitter.
    this.events.setMaxListeners(0);
    this.devices.on((object, kind) => this.events.emit('device', { kind, object }));
    this.audioJobs.on((object, kind) => this.events.emit('audiojob', { kind, object }));
  }

  async start(): Promise<void> {
    await Promise.all([this.devices.start(), this.audioJobs.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.devices.stop(), this.audioJobs.stop()]);
  }

  onDevice(listener: (e: CacheEvent<Device>) => void): () => void {
    this.events.on('device', listener);
    return () => this.events.off('device', listener);
  }

  onAudioJob(listener: (e: CacheEvent<AudioJob>) => void): () => void {
    this.events.on('audiojob', listener);
    return () => this.events.off('audiojob', listener);
  }
}
