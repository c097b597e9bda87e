import {
  ApiException,
  V1MicroTime,
  type CoordinationV1Api,
  type V1Lease,
  type V1OwnerReference,
} from '@kubernetes/client-node';

export interface LeaseLockOptions {
  namespace: string;
  name: string;
  /** Who holds the lease: a pod name, so a restarted container of the same pod takes it back at once. */
  identity: string;
  durationSeconds: number;
  labels?: Record<string, string>;
  ownerReferences?: V1OwnerReference[];
}

export type LeaseOutcome =
  { held: true; transitioned: boolean } | { held: false; holder: string; expiresAt: Date };

/**
 * A coordination.k8s.io Lease used as a lock, with client-go's semantics: the holder renews it;
 * anyone may take it once `renewTime + leaseDurationSeconds` has passed; writes carry the
 * resourceVersion so two candidates can never both win. Expiry is judged on the renew time,
 * which assumes the nodes' clocks agree to well under the lease duration.
 */
export class LeaseLock {
  private current: V1Lease | undefined;

  constructor(
    private readonly api: CoordinationV1Api,
    readonly options: LeaseLockOptions,
  ) {}

  get holder(): string | undefined {
    return this.current?.spec?.holderIdentity ?? undefined;
  }

  /**
   * Acquires the lease if free or expired, renews it if held; `annotations` ride along on each
   * write (workers publish their session state this way without an extra API call).
   */
  async tryAcquireOrRenew(annotations: Record<string, string> = {}, now = new Date()): Promise<LeaseOutcome> {
    const { namespace, name, identity, durationSeconds } = this.options;
    let existing: V1Lease | undefined;
    try {
      existing = await this.api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
    }
    // MicroTime fields must be V1MicroTime: a plain Date serialises with milliseconds, which
    // the apiserver rejects for leases.
    const micro = new V1MicroTime(now.getTime());
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: micro,
    };
    if (!existing) {
      try {
        this.current = await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: {
              name,
              namespace,
              ...(this.options.labels ? { labels: this.options.labels } : {}),
              ...(this.options.ownerReferences ? { ownerReferences: this.options.ownerReferences } : {}),
              annotations,
            },
            spec: { ...spec, acquireTime: micro, leaseTransitions: 0 },
          },
        });
        return { held: true, transitioned: true };
      } catch (e) {
        if (isStatus(e, 409)) return this.lostTo(undefined, now);
        throw e;
      }
    }
    const holder = existing.spec?.holderIdentity ?? '';
    const renewedAt = toDate(existing.spec?.renewTime);
    const duration = existing.spec?.leaseDurationSeconds ?? durationSeconds;
    const expiresAt = new Date((renewedAt?.getTime() ?? 0) + duration * 1000);
    const mine = holder === identity;
    if (!mine && holder !== '' && expiresAt > now) {
      this.current = existing;
      return { held: false, holder, expiresAt };
    }
    const transitioned = !mine;
    const body: V1Lease = {
      ...existing,
      metadata: {
        ...existing.metadata,
        annotations: { ...existing.metadata?.annotations, ...annotations },
      },
      spec: {
        ...existing.spec,
        ...asMicro(existing.spec?.acquireTime),
        ...spec,
        ...(transitioned
          ? { acquireTime: micro, leaseTransitions: (existing.spec?.leaseTransitions ?? 0) + 1 }
          : {}),
      },
    };
    try {
      this.current = await this.api.replaceNamespacedLease({ name, namespace, body });
      return { held: true, transitioned };
    } catch (e) {
      if (isStatus(e, 409)) return this.lostTo(existing, now);
      throw e;
    }
  }

  private lostTo(existing: V1Lease | undefined, now: Date): LeaseOutcome {
    return {
      held: false,
      holder: existing?.spec?.holderIdentity ?? '(another candidate)',
      expiresAt: new Date(now.getTime() + this.options.durationSeconds * 1000),
    };
  }

  /** Gives the lease up so a successor need not wait for it to expire (graceful shutdown). */
  async release(): Promise<void> {
    const { name, namespace, identity } = this.options;
    try {
      const existing = await this.api.readNamespacedLease({ name, namespace });
      if (existing.spec?.holderIdentity !== identity) return;
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...existing,
          spec: {
            ...existing.spec,
            ...asMicro(existing.spec?.acquireTime),
            holderIdentity: '',
            renewTime: new V1MicroTime(0),
            leaseDurationSeconds: 1,
          },
        },
      });
    } catch (e) {
      if (!isStatus(e, 404) && !isStatus(e, 409)) throw e;
    }
  }
}

export function isStatus(e: unknown, code: number): boolean {
  return e instanceof ApiException && e.code === code;
}

function toDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? value : new Date(value);
}

/** A read lease's times come back as plain Dates; they must go out again as MicroTime. */
function asMicro(acquireTime: Date | string | undefined): { acquireTime?: V1MicroTime } {
  const date = toDate(acquireTime);
  return date ? { acquireTime: new V1MicroTime(date.getTime()) } : {};
}
