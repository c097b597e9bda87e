/**
 * The DeviceDiscovery custom resource (switchforge.io/v1alpha1): targets probed on a schedule,
 * a Device created for each that answers. Field names are those of crds/devicediscovery.yaml;
 * the template's fields are the Device spec's own (types picked from DeviceSpec, and
 * schema-sync.test.ts holds the CRD's template schema equal to the Device's).
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition } from './conditions.js';
import type { DeviceProtocol, DeviceSpec, DurationString, SecretReference } from './device.js';

export interface DiscoveryProbe {
  protocol: DeviceProtocol;
  /** When unset, DEFAULT_PORTS[protocol]. */
  port?: number;
}

export interface DiscoverySchedule {
  /** Time between runs, a duration from 1m to 24h ("10m"). */
  every: DurationString;
}

/**
 * What every created Device gets. Subscriptions with a path go to gNMI Devices, those with a
 * filter to NETCONF ones; tls applies to gNMI, ssh to NETCONF (and to the NETCONF probe itself).
 * With profileRef, the created Devices take the rest from that DeviceProfile.
 */
export type DeviceTemplate = Pick<
  DeviceSpec,
  | 'profileRef'
  | 'tls'
  | 'ssh'
  | 'encoding'
  | 'subscriptionMode'
  | 'pollInterval'
  | 'subscriptions'
  | 'labels'
  | 'resources'
  | 'backup'
>;

export interface DeviceDiscoverySpec {
  /** IPv4/IPv6 addresses, host names and IPv4 CIDR blocks no wider than /24. */
  targets: string[];
  /** Tried in order on each target; the first that answers names the Device's protocol. */
  probes: DiscoveryProbe[];
  /** Keys `username` and `password` (or `ssh-privatekey`); also the created Devices' credentials. */
  credentialsSecretRef: SecretReference;
  schedule: DiscoverySchedule;
  /** Probes in flight at once. Defaults to 16. */
  concurrency?: number;
  /** Per probe, connection and answer together. Defaults to 5s. */
  timeout?: DurationString;
  deviceTemplate?: DeviceTemplate;
}

export interface DiscoveredTarget {
  address: string;
  protocol: DeviceProtocol;
  port: number;
  /** The Device created or updated for it. */
  device: string;
  /** Set when a Device of that name exists that this discovery does not own: it is left alone. */
  conflict?: string;
}

export interface FailedTarget {
  address: string;
  /** CamelCase: Timeout, ConnectionRefused, AuthFailed, TLSError, HostKeyMismatch, ... */
  reason: string;
  message: string;
}

export interface DeviceDiscoveryStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** RFC 3339: when the last run finished. */
  lastRunTime?: string;
  found?: DiscoveredTarget[];
  unreachable?: FailedTarget[];
  /** Targets that answered and refused the credentials. */
  refused?: FailedTarget[];
  foundCount?: number;
  unreachableCount?: number;
  refusedCount?: number;
  /** Devices this discovery created and did not find on its last run (marked, not deleted). */
  missingCount?: number;
}

export interface DeviceDiscovery {
  apiVersion: 'switchforge.io/v1alpha1';
  kind: 'DeviceDiscovery';
  metadata: V1ObjectMeta;
  spec: DeviceDiscoverySpec;
  status?: DeviceDiscoveryStatus;
}

export const DEFAULT_DISCOVERY_CONCURRENCY = 16;
export const DEFAULT_DISCOVERY_TIMEOUT: DurationString = '5s';
/** Label on each Device a discovery created: the DeviceDiscovery's name. */
export const LABEL_DISCOVERY = 'switchforge.io/discovery';
/** Annotation on a created Device the discovery no longer finds: RFC 3339, since when. */
export const ANNOTATION_MISSING_SINCE = 'switchforge.io/discovery-missing-since';
/** Prefix of the labels that say what a target reported about itself. */
export const DISCOVERED_LABEL_PREFIX = 'discovery.switchforge.io/';
