import type { Access } from '../auth/access.js';
import type { ConfigBackups } from '../data/config-backups.js';
import type { KubeCache } from '../data/kube-cache.js';
import type { KubeWrites } from '../data/kube-writes.js';
import type { MetricsStore } from '../data/metrics-store.js';
import type { LiveHub } from '../live/live-hub.js';
import type { LiveDeliveryTarget } from '../live/ws-delivery.js';

/** Everything resolvers use; built once per process. */
export interface Services {
  cache: KubeCache;
  metrics: MetricsStore;
  backups: ConfigBackups;
  writes: KubeWrites;
  hub: LiveHub;
}

/** The per-operation context: the caller's access (set by useKubernetesAuth) and the services. */
export interface ApiContext {
  access: Access;
  services: Services;
  /** Set for a subscription that came over graphql-ws: live updates go straight to its socket. */
  liveDelivery?: LiveDeliveryTarget;
}
