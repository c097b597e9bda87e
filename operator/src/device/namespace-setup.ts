import { PatchStrategy, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { GROUP } from '@switchforge/platform/crd';
import {
  LABEL_MANAGED_BY,
  LABEL_NAME,
  MANAGER,
  WORKER_DATABASE_SECRET,
  WORKER_SERVICE_ACCOUNT,
} from '@switchforge/platform/device-worker';

/**
 * What device workers need in each namespace that has Devices: a ServiceAccount whose Role
 * allows exactly what a worker does (read Devices, hold its Lease) and the database Secret the
 * worker pods reference. Re-applied every `refreshMs` so a deleted piece comes back.
 */
export class NamespaceSetup {
  private readonly appliedAt = new Map<string, number>();
  /** One apply per namespace at a time: parallel reconciles of its Devices wait on the same one. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly objects: KubernetesObjectApi,
    private readonly workerDatabaseUrl: string,
    private readonly refreshMs = 5 * 60_000,
  ) {}

  async ensure(namespace: string): Promise<void> {
    const last = this.appliedAt.get(namespace);
    if (last !== undefined && Date.now() - last < this.refreshMs) return;
    let running = this.inFlight.get(namespace);
    if (!running) {
      running = this.apply(namespace).finally(() => this.inFlight.delete(namespace));
      this.inFlight.set(namespace, running);
    }
    await running;
  }

  private async apply(namespace: string): Promise<void> {
    for (const object of namespaceObjects(namespace, this.workerDatabaseUrl)) {
      await this.objects.patch(object, undefined, undefined, MANAGER, true, PatchStrategy.ServerSideApply);
    }
    this.appliedAt.set(namespace, Date.now());
  }
}

export function namespaceObjects(namespace: string, databaseUrl: string): KubernetesObject[] {
  const labels = { [LABEL_NAME]: 'switchforge', [LABEL_MANAGED_BY]: MANAGER };
  const meta = (name: string) => ({ name, namespace, labels });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(WORKER_SERVICE_ACCOUNT) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(WORKER_SERVICE_ACCOUNT),
      rules: [
        { apiGroups: [GROUP], resources: ['devices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(WORKER_SERVICE_ACCOUNT),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: WORKER_SERVICE_ACCOUNT },
      subjects: [{ kind: 'ServiceAccount', name: WORKER_SERVICE_ACCOUNT, namespace }],
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(WORKER_DATABASE_SECRET),
      type: 'Opaque',
      stringData: { url: databaseUrl },
    } as KubernetesObject,
  ];
}
