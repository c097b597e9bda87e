import type { V1Deployment, V1Lease, V1Pod } from '@kubernetes/client-node';
import {
  DeviceConditionReason,
  findCondition,
  formatTime,
  setCondition,
  type Condition,
  type Device,
  type DevicePhase,
  type DeviceStatus,
} from '@switchforge/platform/crd';
import { ANNOTATION, BACKUP_ANNOTATION } from '@switchforge/platform/device-worker';

export interface ObservedWorker {
  deployment?: V1Deployment;
  lease?: V1Lease;
  /** The pod that holds the lease, if it still exists. */
  holderPod?: V1Pod;
  /** Why a Secret the Device names cannot be used, if so. */
  missingSecret?: string;
}

export interface StatusTransition {
  type: string;
  reason: string;
  message: string;
  warning: boolean;
}

export function leaseExpiry(lease: V1Lease | undefined): Date | undefined {
  const renew = lease?.spec?.renewTime;
  if (!renew || !lease?.spec?.holderIdentity) return undefined;
  return new Date(new Date(renew).getTime() + (lease.spec.leaseDurationSeconds ?? 0) * 1000);
}

/**
 * The Device status that the observed world implies. Pure: the reconciler compares it with the
 * current status and writes only a difference; `transitions` become Kubernetes Events.
 */
export function computeDeviceStatus(
  device: Device,
  observed: ObservedWorker,
  now: Date,
): { status: DeviceStatus; transitions: StatusTransition[] } {
  const generation = device.metadata.generation;
  const previous = device.status ?? {};
  let conditions: Condition[] = previous.conditions ?? [];
  const set = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string) => {
    conditions = setCondition(
      conditions,
      {
        type,
        status,
        reason,
        message,
        ...(generation === undefined ? {} : { observedGeneration: generation }),
      },
      now,
    );
  };

  const expiry = leaseExpiry(observed.lease);
  const leaseLive = expiry !== undefined && expiry > now;
  const annotations = observed.lease?.metadata?.annotations ?? {};
  const session = leaseLive ? annotations[ANNOTATION.sessionState] : undefined;
  let phase: DevicePhase;

  if (observed.missingSecret) {
    set('Connected', 'False', DeviceConditionReason.SecretNotFound, observed.missingSecret);
    phase = 'Failed';
  } else if (!leaseLive) {
    const available = observed.deployment?.status?.availableReplicas ?? 0;
    const message = observed.lease?.spec?.holderIdentity
      ? `the collector lease held by ${observed.lease.spec.holderIdentity} expired at ${expiry?.toISOString()}`
      : available > 0
        ? 'the worker is running but has not taken the collector lease yet'
        : 'waiting for the worker pod to start';
    set('Connected', 'Unknown', DeviceConditionReason.WorkerPending, message);
    phase = 'Pending';
  } else if (session === 'connected') {
    set(
      'Connected',
      'True',
      DeviceConditionReason.Connected,
      `collecting as ${observed.lease?.spec?.holderIdentity}`,
    );
    phase = 'Connected';
  } else if (session === 'failed') {
    const reason = annotations[ANNOTATION.reason] ?? DeviceConditionReason.Unreachable;
    set('Connected', 'False', reason, annotations[ANNOTATION.message] ?? '');
    phase = 'Failed';
  } else {
    set('Connected', 'False', DeviceConditionReason.Backoff, annotations[ANNOTATION.message] ?? 'connecting');
    phase = 'Connecting';
  }

  // The worker judges its own health (drops, malformed replies in the last minute) and says so.
  const degraded = leaseLive ? annotations[ANNOTATION.degraded] : undefined;
  if (degraded) {
    const [reason = 'Degraded', ...rest] = degraded.split(':');
    set('Degraded', 'True', reason.trim(), rest.join(':').trim());
  } else {
    set('Degraded', 'False', 'AsExpected', '');
  }
  if (phase === 'Connected' && findCondition(conditions, 'Degraded')?.status === 'True') phase = 'Degraded';

  const connected = findCondition(conditions, 'Connected')!;
  const ready = connected.status === 'True';
  set('Ready', ready ? 'True' : 'False', ready ? 'Collecting' : connected.reason, connected.message);

  const status: DeviceStatus = {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    phase,
    conditions,
    ...(leaseLive && observed.lease?.spec?.holderIdentity
      ? { workerPod: observed.lease.spec.holderIdentity }
      : {}),
    ...(annotations[ANNOTATION.lastSampleTime]
      ? { lastSampleTime: annotations[ANNOTATION.lastSampleTime] }
      : previous.lastSampleTime
        ? { lastSampleTime: previous.lastSampleTime }
        : {}),
    ...(leaseLive && annotations[ANNOTATION.updatesPerSecond] !== undefined
      ? { updatesPerSecond: Number(annotations[ANNOTATION.updatesPerSecond]) }
      : { updatesPerSecond: 0 }),
    ...(annotations[BACKUP_ANNOTATION.lastTime]
      ? {
          lastBackup: {
            time: annotations[BACKUP_ANNOTATION.lastTime],
            hash: annotations[BACKUP_ANNOTATION.lastHash] ?? '',
          },
        }
      : previous.lastBackup
        ? { lastBackup: previous.lastBackup }
        : {}),
  };

  const transitions: StatusTransition[] = [];
  for (const c of conditions) {
    const before = findCondition(previous.conditions, c.type);
    if (c.type === 'Ready') continue;
    if (!before || before.status !== c.status || before.reason !== c.reason) {
      transitions.push({
        type: c.type,
        reason: c.reason,
        message: c.message || `${c.type} is ${c.status}`,
        warning:
          (c.type === 'Connected' && c.status === 'False') || (c.type === 'Degraded' && c.status === 'True'),
      });
    }
  }
  return { status, transitions };
}

/** Whether writing `next` over `current` changes anything a reader cares about. */
export function statusChanged(current: DeviceStatus | undefined, next: DeviceStatus, now: Date): boolean {
  const strip = (s: DeviceStatus | undefined) =>
    JSON.stringify({ ...s, lastSampleTime: undefined, updatesPerSecond: undefined });
  if (strip(current) !== strip(next)) return true;
  // Sample time and rate move every few seconds: refresh them at most every 15 s.
  const last = current?.lastSampleTime ? Date.parse(current.lastSampleTime) : 0;
  const rateChanged = Math.abs((current?.updatesPerSecond ?? 0) - (next.updatesPerSecond ?? 0)) > 0.5;
  return (next.lastSampleTime !== current?.lastSampleTime || rateChanged) && now.getTime() - last > 15_000;
}

export { formatTime };
