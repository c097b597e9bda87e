import type { V1Deployment, V1Lease, V1Pod } from '@kubernetes/client-node';
import {
  DeviceConditionReason,
  findCondition,
  formatTime,
  setConditionAt,
  type Condition,
  type Device,
  type DevicePhase,
  type DeviceStatus,
} from '@switchforge/platform/crd';
import { ANNOTATION, BACKUP_ANNOTATION } from '@switchforge/platform/device-worker';
import { canonicalJson } from '../machinery/merge-patch.js';
import type { ApplyRefusal } from './apply-refusal.js';

export interface ObservedWorker {
  /** The Device cannot be merged with its profile (ProfileNotFound, ProfileCredentialsMissing, ProfileInvalid). */
  profileProblem?: { reason: DeviceConditionReason; message: string };
  deployment?: V1Deployment;
  lease?: V1Lease;
  /** The pod that holds the lease, if it still exists. */
  holderPod?: V1Pod;
  /** The apiserver refused the worker Deployment (`name` is the Deployment's). */
  applyRefused?: ApplyRefusal & { name: string };
  /** The device's worker pods, for what the kubelet reports when one cannot start or keeps dying. */
  workerPods?: V1Pod[];
}

export interface WorkerPodTrouble {
  reason: DeviceConditionReason;
  message: string;
}

const IMAGE_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);
const CONFIG_WAITING = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/**
 * Why the device's newest worker pod is not collecting, as its kubelet and scheduler say: an
 * image the node cannot get, a container it cannot create, a crash loop (with the last
 * termination's message), an OOM kill, no node that fits. Undefined when nothing is wrong yet.
 */
export function workerPodTrouble(pods: readonly V1Pod[] | undefined): WorkerPodTrouble | undefined {
  const live = (pods ?? []).filter((p) => !p.metadata?.deletionTimestamp);
  const newest = live.sort((a, b) =>
    String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
  )[0];
  if (!newest) return undefined;
  const pod = newest.metadata?.name ?? 'the worker pod';
  const scheduled = newest.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return {
      reason: DeviceConditionReason.WorkerUnschedulable,
      message: `${pod}: ${scheduled.message ?? 'no node fits'}`,
    };
  }
  const container = newest.status?.containerStatuses?.[0];
  if (!container) return undefined;
  const waiting = container.state?.waiting;
  const last = container.lastState?.terminated;
  if (waiting?.reason && IMAGE_WAITING.has(waiting.reason)) {
    return {
      reason: DeviceConditionReason.WorkerImageUnavailable,
      message: `${pod}: ${waiting.reason}: ${waiting.message ?? container.image}`,
    };
  }
  if (waiting?.reason && CONFIG_WAITING.has(waiting.reason)) {
    return {
      reason: DeviceConditionReason.WorkerCannotStart,
      message: `${pod}: ${waiting.reason}: ${waiting.message ?? ''}`,
    };
  }
  if (last?.reason === 'OOMKilled') {
    const limit = newest.spec?.containers?.[0]?.resources?.limits?.memory;
    return {
      reason: DeviceConditionReason.WorkerOOMKilled,
      message: `${pod}: the worker was killed for exceeding its memory limit${limit ? ` (${limit})` : ''}, ${container.restartCount} restart(s)`,
    };
  }
  if (
    waiting?.reason === 'CrashLoopBackOff' ||
    (last && (container.restartCount ?? 0) > 0 && !container.ready)
  ) {
    const said = last?.message?.trim().split('\n').slice(-3).join(' | ');
    return {
      reason: DeviceConditionReason.WorkerCrashLooping,
      message: `${pod}: the worker exited ${last?.exitCode !== undefined ? `with code ${last.exitCode}` : ''}${said ? `: ${said}` : ''} (${container.restartCount} restart(s))`,
    };
  }
  return undefined;
}

export interface ConnectedState {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  phase: DevicePhase;
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
    conditions = setConditionAt(conditions, generation, { type, status, reason, message }, now);
  };

  const expiry = leaseExpiry(observed.lease);
  const leaseLive = expiry !== undefined && expiry > now;
  const annotations = observed.lease?.metadata?.annotations ?? {};
  const connectedNow = connectedState(device, observed, now);
  set('Connected', connectedNow.status, connectedNow.reason, connectedNow.message);
  let phase: DevicePhase = connectedNow.phase;

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

/** CamelCase as a condition reason must be; anything else from a worker becomes its fallback. */
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/**
 * The Device's Connected condition and phase from what the operator sees: a worker Deployment
 * the apiserver refused, the worker's Lease (and the session state the worker publishes on it).
 * Pure and table-tested; causes found elsewhere (the kubelet) come in as more `observed` fields.
 */
export function connectedState(device: Device, observed: ObservedWorker, now: Date): ConnectedState {
  const expiry = leaseExpiry(observed.lease);
  const leaseLive = expiry !== undefined && expiry > now;
  const annotations = observed.lease?.metadata?.annotations ?? {};
  const session = leaseLive ? annotations[ANNOTATION.sessionState] : undefined;
  const refused = observed.applyRefused;
  // The worker, if one runs, keeps the last merged spec; the Device as it is now has none.
  if (observed.profileProblem) {
    return { status: 'False', ...observed.profileProblem, phase: 'Failed' };
  }
  if (refused) {
    return {
      status: 'False',
      reason: DeviceConditionReason.WorkerRejected,
      message: `the apiserver refused worker Deployment ${device.metadata.namespace}/${refused.name} (HTTP ${refused.code}): ${refused.message}`,
      phase: 'Failed',
    };
  }
  if (!leaseLive) {
    const trouble = workerPodTrouble(observed.workerPods);
    if (trouble) return { status: 'False', ...trouble, phase: 'Failed' };
    const available = observed.deployment?.status?.availableReplicas ?? 0;
    const message = observed.lease?.spec?.holderIdentity
      ? `the collector lease held by ${observed.lease.spec.holderIdentity} expired at ${expiry?.toISOString()}`
      : available > 0
        ? 'the worker is running but has not taken the collector lease yet'
        : 'waiting for the worker pod to start';
    return { status: 'Unknown', reason: DeviceConditionReason.WorkerPending, message, phase: 'Pending' };
  }
  if (session === 'connected') {
    return {
      status: 'True',
      reason: DeviceConditionReason.Connected,
      message: `collecting as ${observed.lease?.spec?.holderIdentity}`,
      phase: 'Connected',
    };
  }
  const message = annotations[ANNOTATION.message] ?? '';
  if (session === 'failed') {
    const given = annotations[ANNOTATION.reason] ?? '';
    const reason = REASON.test(given) ? given : DeviceConditionReason.Unreachable;
    return { status: 'False', reason, message: message || `the worker reports ${reason}`, phase: 'Failed' };
  }
  return {
    status: 'False',
    reason: DeviceConditionReason.Backoff,
    message: message || 'connecting',
    phase: 'Connecting',
  };
}

/** Whether writing `next` over `current` changes anything a reader cares about. */
export function statusChanged(current: DeviceStatus | undefined, next: DeviceStatus, now: Date): boolean {
  // Canonical: the stored status comes back with its keys sorted.
  const strip = (s: DeviceStatus | undefined) =>
    canonicalJson({ ...s, lastSampleTime: undefined, updatesPerSecond: undefined });
  if (strip(current) !== strip(next)) return true;
  // Sample time and rate move every few seconds: refresh them at most every 15 s.
  const last = current?.lastSampleTime ? Date.parse(current.lastSampleTime) : 0;
  const rateChanged = Math.abs((current?.updatesPerSecond ?? 0) - (next.updatesPerSecond ?? 0)) > 0.5;
  return (next.lastSampleTime !== current?.lastSampleTime || rateChanged) && now.getTime() - last > 15_000;
}

export { formatTime };
