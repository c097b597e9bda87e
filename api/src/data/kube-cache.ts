import { EventEmitter } from 'node:events';
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, AUDIO_JOB, DEVICE, type AudioJob, type Device } from '@switchforge/platform/crd';
import type { SupervisedInformer } from '@switchforge/platform/kube';
import { InformerFactory } from '@switchforge/platform/kube/informer-factory';

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
    const informers = new InformerFactory(kubeConfig);
    this.devices = informers.informer<Device>('devices', { apiVersion: API_VERSION, ...DEVICE });
    this.audioJobs = informers.informer<AudioJob>('audiojobs', { apiVersion: API_VERSION, ...AUDIO_JOB });
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
