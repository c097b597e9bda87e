import type { StemFiles } from '../audio/stem-files.js';
import type { Access } from '../auth/access.js';
import type { ConfigBackups } from '../data/config-backups.js';
import type { KubeCache } from '../data/kube-cache.js';
import type { KubeWrites } from '../data/kube-writes.js';
import type { MetricsStore } from '../data/metrics-store.js';
import type { LiveHub } from '../live/live-hub.js';
import type { PresenceStore } from '../presence/presence-store.js';
import type { LiveDeliveryTarget } from '../live/ws-delivery.js';

/** Everything resolvers use; built once per process. */
export interface Services {
  cache: KubeCache;
  metrics: MetricsStore;
  backups: ConfigBackups;
  writes: KubeWrites;
  hub: LiveHub;
  /** Stem download links; absent when the API has no access to audio storage. */
  stems?: StemFiles;
  /** Who watches what, across the replicas; absent without a database (tests of other parts). */
  presence?: PresenceStore;
  /** The API's own origin as clients reach it, for links to its routes; else the request's. */
  publicUrl?: string;
}

/** The per-operation context: the caller's access (set by useKubernetesAuth) and the services. */
export interface ApiContext {
  access: Access;
  services: Services;
  /** Set for a subscription that came over graphql-ws: live updates go straight to its socket. */
  liveDelivery?: LiveDeliveryTarget;
  /** The HTTP request (absent over graphql-ws). */
  request?: Request;
}
