import { createHash } from 'node:crypto';

/** Labels and names shared by the operator, the worker and the API; one place so they agree. */
export const LABEL_DEVICE = 'switchforge.io/device';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const MANAGER = 'switchforge-operator';
export const WORKER_SERVICE_ACCOUNT = 'switchforge-device-worker';
export const WORKER_DATABASE_SECRET = 'switchforge-worker-database';

/** Where a worker serves its live stream (the wire format: `@switchforge/platform/live-wire`). */
export const LIVE_PORT = 8090;
export const LIVE_PATH = '/live/v1/batches';

/** Where the operator mounts a Device's Secrets in its worker pod, and the worker reads them. */
export const SECRET_MOUNTS = {
  credentials: '/var/run/switchforge/credentials',
  tlsCa: '/var/run/switchforge/tls-ca',
  tlsClient: '/var/run/switchforge/tls-client',
  sshHostKey: '/var/run/switchforge/ssh-host-key',
  /** The CA of an OTLP output's receiver (spec.outputs.otlp.tls.caSecretRef). */
  otlpCa: '/var/run/switchforge/otlp-ca',
} as const;

export type SecretMount = keyof typeof SECRET_MOUNTS;

/**
 * Configuration backups: `requested` is set on the Device (by people or the API); the others are
 * published by the worker on its Lease and copied by the operator into `status.lastBackup`.
 */
export const BACKUP_ANNOTATION = {
  /** On the Device: an RFC 3339 time; a value newer than the last handled one asks for a backup. */
  requested: 'switchforge.io/backup-requested',
  /** On the Lease: when the last successful backup finished (RFC 3339). */
  lastTime: 'switchforge.io/last-backup-time',
  /** On the Lease: SHA-256 (hex) of the configuration the last successful backup saw. */
  lastHash: 'switchforge.io/last-backup-hash',
  /** On the Lease: the `backup-requested` value the worker last acted on (whatever the outcome). */
  handled: 'switchforge.io/backup-handled',
} as const;

/** Lease annotations through which a worker reports its session to the operator. */
export const ANNOTATION = {
  sessionState: 'switchforge.io/session-state',
  reason: 'switchforge.io/session-reason',
  message: 'switchforge.io/session-message',
  lastSampleTime: 'switchforge.io/last-sample-time',
  updatesPerSecond: 'switchforge.io/updates-per-second',
  /** `Reason: message` while the worker is degraded (drops, malformed replies), absent otherwise. */
  degraded: 'switchforge.io/degraded',
  /**
   * The DeviceProfile generation of the merged spec the worker collects with (status.profile);
   * empty without a profile. A profile's rollout moves on once a Device's worker says it here.
   */
  appliedProfileGeneration: 'switchforge.io/applied-profile-generation',
} as const;

/** A DNS-1123 label of at most 63 characters, unique per input: long names get a hash suffix. */
export function boundedName(base: string, suffix: string): string {
  const full = `${base}-${suffix}`;
  if (full.length <= 63) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${base.slice(0, 63 - suffix.length - 10).replace(/-+$/, '')}-${hash}-${suffix}`;
}

export function workerDeploymentName(device: string): string {
  return boundedName(device, 'worker');
}

export function deviceLeaseName(device: string): string {
  return boundedName(device, 'collector');
}
