import { ApiException, CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LIVE_PORT, deviceLeaseName } from '@switchforge/platform/device-worker';
import { UnavailableError, errorMessage } from '@switchforge/platform/errors';

export interface WorkerPod {
  namespace: string;
  name: string;
  podIP: string | undefined;
}

export interface WorkerEndpoint {
  /** Base URL of the worker's live server, e.g. http://10.0.3.7:8090. */
  url: string;
  /** The lease holder (pod name); a change means a hand-over. */
  holder: string;
}

/** Maps a worker pod to `host:port`; undefined when the pod has no address yet. */
export type WorkerAddressFn = (pod: WorkerPod) => string | undefined;

export interface WorkerLocatorOptions {
  livePort?: number;
  /** Replaces `podIP:livePort` (tests map pods to in-process servers on loopback). */
  address?: WorkerAddressFn;
}

export interface Locator {
  locate(namespace: string, device: string): Promise<WorkerEndpoint | undefined>;
}

/**
 * Finds the worker that collects a device: the holder of its Lease (`<device>-collector`, at most
 * one active collector per device) is a pod name; the pod's IP and the live port give the URL.
 * An expired lease means no worker right now (the caller retries).
 */
export class WorkerLocator implements Locator {
  private readonly coordination: CoordinationV1Api;
  private readonly core: CoreV1Api;
  private readonly address: WorkerAddressFn;

  constructor(kubeConfig: KubeConfig, options: WorkerLocatorOptions = {}) {
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    const port = options.livePort ?? LIVE_PORT;
    this.address =
      options.address ??
      ((pod) =>
        pod.podIP ? `${pod.podIP.includes(':') ? `[${pod.podIP}]` : pod.podIP}:${port}` : undefined);
  }

  async locate(namespace: string, device: string, now = new Date()): Promise<WorkerEndpoint | undefined> {
    try {
      const lease = await this.coordination.readNamespacedLease({ namespace, name: deviceLeaseName(device) });
      const holder = lease.spec?.holderIdentity;
      if (!holder) return undefined;
      const renewed = lease.spec?.renewTime ?? lease.spec?.acquireTime;
      const duration = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
      if (renewed && new Date(renewed).getTime() + duration < now.getTime()) return undefined;
      const pod = await this.core.readNamespacedPod({ namespace, name: holder });
      const hostPort = this.address({ namespace, name: holder, podIP: pod.status?.podIP });
      return hostPort ? { url: `http://${hostPort}`, holder } : undefined;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw new UnavailableError(
        `locating the worker of ${namespace}/${device}: ${errorMessage(e)}`,
        'KubernetesUnavailable',
        { cause: e },
      );
    }
  }
}
