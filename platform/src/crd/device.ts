/**
 * The Device custom resource (switchforge.io/v1alpha1): one switch whose telemetry a worker pod
 * collects. Field names are those of crds/device.yaml; schema-sync.test.ts holds the two together.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition } from './conditions.js';

export type DeviceProtocol = 'gnmi' | 'netconf';
export type GnmiEncoding = 'json' | 'json_ietf' | 'proto' | 'ascii';
/** gNMI SubscriptionList mode. */
export type SubscriptionListMode = 'stream' | 'poll' | 'once';
/** gNMI per-path stream mode. */
export type StreamMode = 'sample' | 'on-change' | 'target-defined';
export type HostKeyVerification = 'Strict' | 'Disabled';
/** A Go-style duration as the schema accepts it: "10s", "1m30s", "250ms". See duration.ts. */
export type DurationString = string;

/** A Secret in the Device's namespace. */
export interface SecretReference {
  name: string;
}

export interface DeviceCredentials {
  /** Keys `username` and `password`, or `username` and `ssh-privatekey`. */
  secretRef: SecretReference;
}

export interface DeviceTls {
  /** Plaintext gRPC. Defaults to false: TLS is on unless this is set. */
  insecure?: boolean;
  /** TLS without verifying the switch's certificate. Defaults to false. */
  skipVerify?: boolean;
  /** Secret with key `ca.crt`. Without it the system roots are trusted. */
  caSecretRef?: SecretReference;
  /** kubernetes.io/tls Secret for mutual TLS. */
  clientCertSecretRef?: SecretReference;
  serverName?: string;
}

export interface DeviceSsh {
  /** Secret with key `known_hosts` (or `ssh-hostkey`). Required for netconf unless verification is Disabled. */
  hostKeySecretRef?: SecretReference;
  /** Defaults to Strict. */
  hostKeyVerification?: HostKeyVerification;
}

export type NetconfFilterType = 'subtree' | 'xpath';

export interface NetconfFilter {
  type: NetconfFilterType;
  /** Subtree XML (starts with '<') or an absolute XPath (starts with '/'). */
  value: string;
}

/**
 * One thing to collect. gNMI: `path` (+ origin, mode, sampleInterval, ...). NETCONF: `filter` and
 * `interval`. The schema rejects mixtures.
 */
export interface DeviceSubscription {
  name?: string;
  origin?: string;
  path?: string;
  /** Defaults to target-defined (applied by the worker, not the schema). */
  mode?: StreamMode;
  sampleInterval?: DurationString;
  suppressRedundant?: boolean;
  heartbeatInterval?: DurationString;
  filter?: NetconfFilter;
  interval?: DurationString;
}

/** Kubernetes quantities, e.g. { cpu: '50m', memory: '64Mi' }. */
export type ResourceList = Record<string, string | number>;

export interface DeviceResources {
  limits?: ResourceList;
  requests?: ResourceList;
}

export interface DeviceBackup {
  /** Defaults to true. */
  enabled?: boolean;
  /** Cron, UTC. Defaults to "0 3 * * *". */
  schedule?: string;
}

/**
 * Where a Device's telemetry goes besides PostgreSQL (which stays the store the API reads). Each
 * output is on when its object is present and `enabled` is not false. Switch paths become metric
 * names and path keys attributes as gnmic's Prometheus output makes them (README: "Device
 * telemetry as metrics"). With a profileRef, a Device's `outputs` replaces its profile's whole.
 */
export interface DeviceOutputs {
  /** Prepended to every metric name with `_`; none by default (gnmic's default). */
  metricPrefix?: string;
  /** A string leaf as `<name>_info{value="..."} 1`; by default strings are dropped (and counted). */
  stringsAsLabels?: boolean;
  /** Series the latest-value cache holds; new series past it are dropped and counted. Default 10000. */
  maxSeries?: number;
  /** A scrape endpoint on the worker pod (container port `device-metrics`). */
  prometheus?: DevicePrometheusOutput;
  /** OTLP/HTTP metrics pushed to a collector. */
  otlp?: DeviceOtlpOutput;
}

export interface DevicePrometheusOutput {
  /** Defaults to true. */
  enabled?: boolean;
  /** Defaults to DEVICE_METRICS_PORT (9804, gnmic's). */
  port?: number;
}

export interface DeviceOtlpOutput {
  /** Defaults to true. */
  enabled?: boolean;
  /** The collector's OTLP/HTTP base URL (`/v1/metrics` is appended), http:// or https:// (system roots). */
  endpoint: string;
  /** Defaults to 15. */
  intervalSeconds?: number;
  /** For an https endpoint signed by a CA of your own: Secret with key `ca.crt`, mounted on the worker. */
  tls?: { caSecretRef?: SecretReference };
}

/** A DeviceProfile in the Device's namespace. */
export interface ProfileReference {
  name: string;
}

/**
 * A Device's spec as written. With `profileRef`, the fields it leaves unset are the profile's
 * (see deviceprofile.ts, `effectiveDeviceSpec`); what the worker collects with is always an
 * `EffectiveDeviceSpec`, where protocol and credentials are known.
 */
export interface DeviceSpec {
  address: string;
  /** When unset, DEFAULT_PORTS[protocol]. */
  port?: number;
  /** When unset, the profile's, or gnmi (DEFAULT_PROTOCOL). */
  protocol?: DeviceProtocol;
  /** Required unless the profile has them. */
  credentials?: DeviceCredentials;
  profileRef?: ProfileReference;
  /** gNMI only. */
  tls?: DeviceTls;
  /** NETCONF only. */
  ssh?: DeviceSsh;
  /** gNMI only; when unset, DEFAULT_ENCODING. */
  encoding?: GnmiEncoding;
  /** gNMI only; when unset, stream. */
  subscriptionMode?: SubscriptionListMode;
  /** Required with subscriptionMode poll, forbidden otherwise. */
  pollInterval?: DurationString;
  subscriptions?: DeviceSubscription[];
  /** Extra labels attached to every sample. */
  labels?: Record<string, string>;
  /** Of the worker pod's container. */
  resources?: DeviceResources;
  backup?: DeviceBackup;
  /** Telemetry as metrics too: a Prometheus scrape endpoint, OTLP to a collector. */
  outputs?: DeviceOutputs;
}

/** A Device's spec merged over its profile's: what the worker Deployment and the worker use. */
export type EffectiveDeviceSpec = Omit<DeviceSpec, 'profileRef' | 'protocol' | 'credentials'> & {
  protocol: DeviceProtocol;
  credentials: DeviceCredentials;
};

export const DEVICE_PHASES = ['Pending', 'Connecting', 'Connected', 'Degraded', 'Failed'] as const;
export type DevicePhase = (typeof DEVICE_PHASES)[number];

export const DeviceConditionType = {
  Ready: 'Ready',
  Connected: 'Connected',
  Degraded: 'Degraded',
} as const;
export type DeviceConditionType = (typeof DeviceConditionType)[keyof typeof DeviceConditionType];

/** Reasons the Device controller and worker give on conditions (CamelCase). */
export const DeviceConditionReason = {
  Connected: 'Connected',
  Unreachable: 'Unreachable',
  AuthFailed: 'AuthFailed',
  TLSError: 'TLSError',
  HostKeyMismatch: 'HostKeyMismatch',
  SubscriptionRejected: 'SubscriptionRejected',
  SecretNotFound: 'SecretNotFound',
  /** A Secret exists without a key the Device needs (e.g. an Opaque Secret where a kubernetes.io/tls one belongs). */
  SecretKeyMissing: 'SecretKeyMissing',
  /** A certificate, private key or SSH key in a Secret cannot be parsed or does not fit. */
  SecretInvalid: 'SecretInvalid',
  /** The apiserver refused the worker Deployment the operator derived from the Device. */
  WorkerRejected: 'WorkerRejected',
  WorkerPending: 'WorkerPending',
  /** The worker's image cannot be pulled (or is absent with imagePullPolicy Never). */
  WorkerImageUnavailable: 'WorkerImageUnavailable',
  /** The kubelet cannot create the worker's container (e.g. an env var from a missing Secret). */
  WorkerCannotStart: 'WorkerCannotStart',
  /** The worker keeps exiting; the message carries its last termination message. */
  WorkerCrashLooping: 'WorkerCrashLooping',
  /** The worker was killed for exceeding its memory limit. */
  WorkerOOMKilled: 'WorkerOOMKilled',
  /** No node can take the worker pod (resources, selectors, taints). */
  WorkerUnschedulable: 'WorkerUnschedulable',
  Backoff: 'Backoff',
  /** spec.profileRef names a DeviceProfile that does not exist in the Device's namespace. */
  ProfileNotFound: 'ProfileNotFound',
  /** Neither the Device nor its profile names a credentials Secret. */
  ProfileCredentialsMissing: 'ProfileCredentialsMissing',
  /** The Device merged over its profile breaks a rule the schema could not check on the Device alone. */
  ProfileInvalid: 'ProfileInvalid',
} as const;
export type DeviceConditionReason = (typeof DeviceConditionReason)[keyof typeof DeviceConditionReason];

export interface DeviceBackupStatus {
  /** RFC 3339. */
  time?: string;
  /** SHA-256 of the stored configuration, hex. */
  hash?: string;
}

export interface DeviceStatus {
  observedGeneration?: number;
  phase?: DevicePhase;
  conditions?: Condition[];
  workerPod?: string;
  /** RFC 3339. */
  lastSampleTime?: string;
  updatesPerSecond?: number;
  lastBackup?: DeviceBackupStatus;
  /** With spec.profileRef: the profile merged into effectiveSpec. */
  profile?: DeviceProfileStatusRef;
  /** With spec.profileRef: the spec merged over the profile's, written by the operator. */
  effectiveSpec?: EffectiveDeviceSpec;
}

export interface DeviceProfileStatusRef {
  name: string;
  /** The profile's metadata.generation that effectiveSpec was merged from. */
  generation?: number;
}

export interface Device {
  apiVersion: 'switchforge.io/v1alpha1';
  kind: 'Device';
  metadata: V1ObjectMeta;
  spec: DeviceSpec;
  status?: DeviceStatus;
}

/** A Device with its merged spec (see deviceprofile.ts): what its worker Deployment is made of. */
export type ResolvedDevice = Omit<Device, 'spec'> & { spec: EffectiveDeviceSpec };

/** Defaults the schema cannot express because they depend on the protocol. */
export const DEFAULT_PROTOCOL: DeviceProtocol = 'gnmi';
export const DEFAULT_PORTS: Readonly<Record<DeviceProtocol, number>> = { gnmi: 57400, netconf: 830 };
export const DEFAULT_ENCODING: GnmiEncoding = 'json_ietf';
export const DEFAULT_SUBSCRIPTION_MODE: SubscriptionListMode = 'stream';
export const DEFAULT_STREAM_MODE: StreamMode = 'target-defined';

/** The worker's device-metrics scrape port when `outputs.prometheus.port` is unset (gnmic's default). */
export const DEVICE_METRICS_PORT = 9804;
export const DEFAULT_OUTPUT_MAX_SERIES = 10_000;
export const DEFAULT_OTLP_INTERVAL_SECONDS = 15;

/** The port of the Prometheus output when it is on, else undefined. */
export function prometheusOutputPort(spec: Pick<DeviceSpec, 'outputs'>): number | undefined {
  const p = spec.outputs?.prometheus;
  return p && p.enabled !== false ? (p.port ?? DEVICE_METRICS_PORT) : undefined;
}

/** The OTLP output's settings when it is on, else undefined. */
export function otlpOutput(
  spec: Pick<DeviceSpec, 'outputs'>,
): { endpoint: string; intervalSeconds: number } | undefined {
  const o = spec.outputs?.otlp;
  return o && o.enabled !== false
    ? { endpoint: o.endpoint, intervalSeconds: o.intervalSeconds ?? DEFAULT_OTLP_INTERVAL_SECONDS }
    : undefined;
}

/** Whether any output besides PostgreSQL is on: without one the worker loads none of their code. */
export function anyOutputOn(spec: Pick<DeviceSpec, 'outputs'>): boolean {
  return prometheusOutputPort(spec) !== undefined || otlpOutput(spec) !== undefined;
}

export function devicePort(spec: Pick<DeviceSpec, 'port' | 'protocol'>): number {
  return spec.port ?? DEFAULT_PORTS[spec.protocol ?? DEFAULT_PROTOCOL];
}
