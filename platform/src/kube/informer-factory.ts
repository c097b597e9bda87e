import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { SupervisedInformer } from './informer.js';

/** What an informer watches: the kind as the API names it, and the plural of its path. */
export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
  /** Nodes, for example: never namespaced, whatever the factory's namespace. */
  clusterScoped?: boolean;
}

export const CORE = {
  pods: { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  nodes: { apiVersion: 'v1', kind: 'Node', plural: 'nodes', clusterScoped: true },
  deployments: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  leases: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases' },
} as const satisfies Record<string, ResourceType>;

export interface InformerOptions {
  labelSelector?: string;
  /** Overrides the factory's namespace for this informer (e.g. `kube-node-lease`). */
  namespace?: string;
}

/**
 * Builds the supervised informers of one process (client-go's SharedInformerFactory, without the
 * sharing, which no caller needs): the watch path and the list call both come from the resource
 * type and the namespace scope, so they cannot disagree.
 */
export class InformerFactory {
  private readonly objects: KubernetesObjectApi;

  constructor(
    private readonly kubeConfig: KubeConfig,
    /** Watch one namespace only; undefined: all namespaces. */
    private readonly namespace?: string,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  informer<T extends KubernetesObject>(
    name: string,
    type: ResourceType,
    options: InformerOptions = {},
  ): SupervisedInformer<T> {
    const namespace = type.clusterScoped ? undefined : (options.namespace ?? this.namespace);
    const { labelSelector } = options;
    return new SupervisedInformer<T>(this.kubeConfig, {
      name,
      path: watchPath(type, namespace),
      ...(labelSelector ? { labelSelector } : {}),
      list: () =>
        this.objects.list<T>(
          type.apiVersion,
          type.kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          labelSelector,
        ),
    });
  }
}

/** `/api/v1[/namespaces/ns]/pods`, `/apis/apps/v1[/namespaces/ns]/deployments`. */
export function watchPath(type: ResourceType, namespace?: string): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${type.plural}`;
}
