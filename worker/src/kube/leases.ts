import { isStatus, type LeaseClient, type LeaseObject } from '@switchforge/platform/lease';
import type { KubeConnection } from './kube-connection.js';

const base = (namespace: string) =>
  `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;

/** LeaseLock's transport over the worker's own connection. */
export function workerLeases(kube: KubeConnection): LeaseClient {
  return {
    read: async (namespace, name) => {
      try {
        return await kube.json<LeaseObject>('GET', `${base(namespace)}/${encodeURIComponent(name)}`);
      } catch (e) {
        if (isStatus(e, 404)) return undefined;
        throw e;
      }
    },
    create: (namespace, lease) => kube.json<LeaseObject>('POST', base(namespace), lease),
    replace: (namespace, name, lease) =>
      kube.json<LeaseObject>('PUT', `${base(namespace)}/${encodeURIComponent(name)}`, lease),
  };
}
