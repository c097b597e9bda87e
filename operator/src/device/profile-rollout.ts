/**
 * A DeviceProfile edit reaches its Devices a few at a time, as a Deployment's rolling update
 * replaces a few pods at a time: a Device moves to the new generation (its merged spec is
 * written, its worker applies it in place) only while fewer than `spec.rollout.maxConcurrent`
 * of the profile's Devices are between the two, and counts until its worker says, on its Lease,
 * that it collects with the new spec and its Deployment has finished rolling out. A worker that
 * never applies the edit (a bad edit that crashes it) keeps its place, so a bad edit stops at
 * that many Devices. A Device that was not connected before the edit, or whose merged spec the
 * edit does not change, has nothing to lose and moves without taking a place.
 *
 * The state is what the caches show, plus the places this operator handed out and has not yet
 * seen in the caches (two Devices reconciled at once must not both take the last place). After a
 * restart those are gone, and every Device between two generations counts: the safe side.
 */
import type { V1Deployment, V1Lease, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_PROFILE_MAX_CONCURRENT, type Device, type DeviceProfile } from '@switchforge/platform/crd';
import { ANNOTATION, deviceLeaseName, workerDeploymentName } from '@switchforge/platform/device-worker';
import { keyOf, type Lister } from '@switchforge/platform/kube';
import { leaseExpiry } from './device-status.js';

/** Devices that may be between two generations at once: a count, or a percentage rounded up. */
export function concurrencyLimit(maxConcurrent: number | string | undefined, devices: number): number {
  const value = maxConcurrent ?? DEFAULT_PROFILE_MAX_CONCURRENT;
  if (typeof value === 'number') return Math.max(1, Math.floor(value));
  const percent = /^(\d+)%$/.exec(value)?.[1];
  // The schema admits only these two forms; anything else is treated as one at a time.
  if (percent === undefined) return Math.max(1, Number.parseInt(value, 10) || 1);
  return Math.max(1, Math.ceil((devices * Number(percent)) / 100));
}

/** What a Device's worker shows of the generation it collects with. */
export interface WorkerView {
  lease: V1Lease | undefined;
  deployment: V1Deployment | undefined;
  holderPod: V1Pod | undefined;
}

/** The caches a worker's view is read from. */
export interface WorkerCaches {
  leases: Lister<V1Lease>;
  deployments: Lister<V1Deployment>;
  pods: Lister<V1Pod>;
}

export function workerViewOf(caches: WorkerCaches, device: Device): WorkerView {
  const { name = '', namespace } = device.metadata;
  const lease = caches.leases.get(deviceLeaseName(name), namespace);
  const holder = lease?.spec?.holderIdentity;
  return {
    lease,
    deployment: caches.deployments.get(workerDeploymentName(name), namespace),
    holderPod: holder ? caches.pods.get(holder, namespace) : undefined,
  };
}

/**
 * The Device's worker collects with the merged spec of `generation`: its live Lease says so, and
 * the Deployment has finished rolling out (so the holder is a pod of the current template, not
 * an old one on its way out).
 */
export function workerApplied(generation: number, worker: WorkerView, now: Date): boolean {
  const { lease, deployment, holderPod } = worker;
  const expiry = leaseExpiry(lease);
  if (!expiry || expiry <= now) return false;
  if (lease?.metadata?.annotations?.[ANNOTATION.appliedProfileGeneration] !== String(generation))
    return false;
  if (!holderPod || holderPod.metadata?.deletionTimestamp) return false;
  if (!deployment) return false;
  const replicas = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  return (
    (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (status.updatedReplicas ?? 0) >= replicas &&
    (status.replicas ?? 0) <= replicas
  );
}

/** One of a profile's Devices, as the rollout sees it. */
export interface RolloutMember {
  key: string;
  /** status.profile.generation: the profile generation its merged spec came from. */
  generation: number | undefined;
  /** Its worker collects with that generation (workerApplied). */
  applied: boolean;
}

export interface RolloutProgress {
  /** On the profile's generation and applied by the worker. */
  updated: string[];
  /** Merged from the profile's generation, not yet applied. */
  inProgress: string[];
  /** Still on an older generation (or never merged). */
  pending: string[];
}

export function rolloutProgress(generation: number, members: readonly RolloutMember[]): RolloutProgress {
  const progress: RolloutProgress = { updated: [], inProgress: [], pending: [] };
  for (const m of members) {
    if (m.generation !== generation) progress.pending.push(m.key);
    else if (m.applied) progress.updated.push(m.key);
    else progress.inProgress.push(m.key);
  }
  return progress;
}

/** The places this operator handed out, per profile, for the generation they were handed out for. */
export class ProfileRollouts {
  private readonly places = new Map<string, { generation: number; devices: Set<string> }>();
  /** Devices moved without a place (not connected before the edit), per profile and generation. */
  private readonly free = new Map<string, { generation: number; devices: Set<string> }>();

  /**
   * May `device` move to the profile's generation now? `members` are the profile's Devices as the
   * caches show them; `disruptive`, whether moving can interrupt its collection (it was
   * connected, and its merged spec changes). A move that is not takes no place.
   */
  admit(
    profile: DeviceProfile,
    device: string,
    members: readonly RolloutMember[],
    disruptive: boolean,
  ): boolean {
    const key = keyOf(profile);
    const generation = profile.metadata.generation ?? 0;
    const places = this.current(this.places, key, generation);
    const free = this.current(this.free, key, generation);
    if (places.has(device) || free.has(device)) return true;
    if (!disruptive) {
      free.add(device);
      return true;
    }
    const { inProgress } = rolloutProgress(generation, members);
    const applied = new Set(
      members.filter((m) => m.generation === generation && m.applied).map((m) => m.key),
    );
    // A place handed out is held until the caches show the worker applied the edit.
    for (const d of places) if (applied.has(d)) places.delete(d);
    const holding = new Set([...places, ...inProgress.filter((d) => !free.has(d))]);
    if (holding.size >= concurrencyLimit(profile.spec.rollout?.maxConcurrent, members.length)) return false;
    places.add(device);
    return true;
  }

  /** Forgets a profile that is gone. */
  forget(profileKey: string): void {
    this.places.delete(profileKey);
    this.free.delete(profileKey);
  }

  private current(
    map: Map<string, { generation: number; devices: Set<string> }>,
    key: string,
    generation: number,
  ): Set<string> {
    let entry = map.get(key);
    if (!entry || entry.generation !== generation) {
      entry = { generation, devices: new Set() };
      map.set(key, entry);
    }
    return entry.devices;
  }
}

/** The profile's Devices as members of its rollout, from the caches. */
export function rolloutMembers(
  profile: DeviceProfile,
  devices: readonly Device[],
  workerOf: (device: Device) => WorkerView,
  now: Date,
): RolloutMember[] {
  const generation = profile.metadata.generation ?? 0;
  return devices
    .filter(
      (d) =>
        d.spec?.profileRef?.name === profile.metadata.name &&
        (d.metadata.namespace ?? '') === (profile.metadata.namespace ?? '') &&
        !d.metadata.deletionTimestamp,
    )
    .map((d) => {
      const on = d.status?.profile;
      const merged = on && on.name === profile.metadata.name ? on.generation : undefined;
      return {
        key: keyOf(d),
        generation: merged,
        applied: merged === generation && workerApplied(generation, workerOf(d), now),
      };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}
