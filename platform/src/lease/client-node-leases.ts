import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { isStatus, microTime, type LeaseClient, type LeaseObject } from './lease-lock.js';

/** LeaseLock's transport over @kubernetes/client-node, for processes that load it anyway. */
export function clientNodeLeases(api: CoordinationV1Api): LeaseClient {
  return {
    read: async (namespace, name) => {
      try {
        return fromV1(await api.readNamespacedLease({ name, namespace }));
      } catch (e) {
        if (isStatus(e, 404)) return undefined;
        throw e;
      }
    },
    create: async (namespace, lease) =>
      fromV1(await api.createNamespacedLease({ namespace, body: toV1(lease) })),
    replace: async (namespace, name, lease) =>
      fromV1(await api.replaceNamespacedLease({ name, namespace, body: toV1(lease) })),
  };
}

// client-node reads MicroTime fields as Dates and must be handed V1MicroTime to write them: a
// plain Date serialises with milliseconds, which the apiserver rejects for leases.
const MICRO_FIELDS = ['acquireTime', 'renewTime'] as const;

function fromV1(lease: V1Lease): LeaseObject {
  const spec = { ...lease.spec } as Record<string, unknown>;
  for (const f of MICRO_FIELDS) {
    const v = spec[f];
    if (v instanceof Date) spec[f] = microTime(v);
  }
  return { ...lease, metadata: { ...lease.metadata }, spec } as LeaseObject;
}

function toV1(lease: LeaseObject): V1Lease {
  const spec = { ...lease.spec } as Record<string, unknown>;
  for (const f of MICRO_FIELDS) {
    const v = spec[f];
    if (typeof v === 'string') spec[f] = new V1MicroTime(Date.parse(v));
  }
  return { ...lease, spec } as V1Lease;
}
