/**
 * The per-device collector Lease and the operator's leader Lease share this lock. It speaks to
 * the apiserver through `LeaseClient`, three calls on plain JSON Lease objects, so a process can
 * bring its own transport: the operator adapts @kubernetes/client-node (client-node-leases.ts),
 * the device worker its own small client, which keeps client-node out of every worker pod.
 */

export interface LeaseOwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC 3339 with microseconds (see microTime). */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** A coordination.k8s.io/v1 Lease as JSON; fields this lock does not use pass through unchanged. */
export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: LeaseOwnerReference[];
    [field: string]: unknown;
  };
  spec?: LeaseSpec;
}

/** What the lock needs of the apiserver. Errors carry the HTTP status as a numeric `code`. */
export interface LeaseClient {
  /** Undefined when there is no such Lease (404). */
  read(namespace: string, name: string): Promise<LeaseObject | undefined>;
  create(namespace: string, lease: LeaseObject): Promise<LeaseObject>;
  /** A PUT carrying `metadata.resourceVersion`: a 409 when someone wrote in between. */
  replace(namespace: string, name: string, lease: LeaseObject): Promise<LeaseObject>;
}

export interface LeaseLockOptions {
  namespace: string;
  name: string;
  /** Who holds the lease: a pod name, so a restarted container of the same pod takes it back at once. */
  identity: string;
  durationSeconds: number;
  labels?: Record<string, string>;
  ownerReferences?: LeaseOwnerReference[];
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
  private current: LeaseObject | undefined;

  constructor(
    private readonly api: LeaseClient,
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
    const existing = await this.api.read(namespace, name);
    // The apiserver rejects a lease time without microseconds.
    const micro = microTime(now);
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: micro,
    };
    if (!existing) {
      try {
        this.current = await this.api.create(namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name,
            namespace,
            ...(this.options.labels ? { labels: this.options.labels } : {}),
            ...(this.options.ownerReferences ? { ownerReferences: this.options.ownerReferences } : {}),
            annotations,
          },
          spec: { ...spec, acquireTime: micro, leaseTransitions: 0 },
        });
        return { held: true, transitioned: true };
      } catch (e) {
        if (isStatus(e, 409)) return this.lostTo(undefined, now);
        throw e;
      }
    }
    const holder = existing.spec?.holderIdentity ?? '';
    const renewedAt = existing.spec?.renewTime ? Date.parse(existing.spec.renewTime) : 0;
    const duration = existing.spec?.leaseDurationSeconds ?? durationSeconds;
    const expiresAt = new Date(renewedAt + duration * 1000);
    const mine = holder === identity;
    if (!mine && holder !== '' && expiresAt > now) {
      this.current = existing;
      return { held: false, holder, expiresAt };
    }
    const transitioned = !mine;
    const body: LeaseObject = {
      ...existing,
      metadata: {
        ...existing.metadata,
        annotations: { ...existing.metadata.annotations, ...annotations },
      },
      spec: {
        ...existing.spec,
        ...spec,
        ...(transitioned
          ? { acquireTime: micro, leaseTransitions: (existing.spec?.leaseTransitions ?? 0) + 1 }
          : {}),
      },
    };
    try {
      this.current = await this.api.replace(namespace, name, body);
      return { held: true, transitioned };
    } catch (e) {
      if (isStatus(e, 409)) return this.lostTo(existing, now);
      throw e;
    }
  }

  private lostTo(existing: LeaseObject | undefined, now: Date): LeaseOutcome {
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
      const existing = await this.api.read(namespace, name);
      if (!existing || existing.spec?.holderIdentity !== identity) return;
      await this.api.replace(namespace, name, {
        ...existing,
        spec: {
          ...existing.spec,
          holderIdentity: '',
          renewTime: microTime(new Date(0)),
          leaseDurationSeconds: 1,
        },
      });
    } catch (e) {
      if (!isStatus(e, 404) && !isStatus(e, 409)) throw e;
    }
  }
}

/**
 * Whether `e` is an apiserver answer with this HTTP status: client-node's ApiException and the
 * worker's KubeStatusError both carry it as a numeric `code` (Node's own errors use strings).
 */
export function isStatus(e: unknown, code: number): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === code;
}

/** A Kubernetes MicroTime: RFC 3339 in UTC with six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
