import { createHash } from 'node:crypto';

/** Labels and names shared by the operator, the worker and the API; one place so they agree. */
export const LABEL_DEVICE = 'switchforge.io/device';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const MANAGER = 'switchforge-operator';
export const WORKER_SERVICE_ACCOUNT = 'switchforge-device-worker';
export const WORKER_DATABASE_SECRET = 'switchforge-worker-database';

/** Lease annotations through which a worker reports its session to the operator. */
export const ANNOTATION = {
  sessionState: 'switchforge.io/session-state',
  reason: 'switchforge.io/session-reason',
  message: 'switchforge.io/session-message',
  lastSampleTime: 'switchforge.io/last-sample-time',
  updatesPerSecond: 'switchforge.io/updates-per-second',
  /** `Reason: message` while the worker is degraded (drops, malformed replies), absent otherwise. */
  degraded: 'switchforge.io/degraded',
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
