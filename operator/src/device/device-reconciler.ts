import {
  PatchStrategy,
  type CoreV1Api,
  type CustomObjectsApi,
  type KubernetesObjectApi,
  type V1Deployment,
  type V1Lease,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import {
  DEVICE,
  ProfileError,
  effectiveDeviceSpec,
  type Device,
  type DeviceProfile,
  type DeviceStatus,
  type EffectiveDeviceSpec,
  type ResolvedDevice,
} from '@switchforge/platform/crd';
import {
  LABEL_DEVICE,
  MANAGER,
  deviceLeaseName,
  workerDeploymentName,
} from '@switchforge/platform/device-worker';
import { isStatus } from '@switchforge/platform/lease';
import { log } from '@switchforge/platform/log';
import type { ReconcileResult, Reconciler } from '../machinery/controller.js';
import { EventRecorder } from '../machinery/event-recorder.js';
import { mergePatchFrom, sameJson } from '../machinery/merge-patch.js';
import { keyOf, splitKey, type Lister } from '@switchforge/platform/kube';
import { applyRefusal } from './apply-refusal.js';
import { computeDeviceStatus, leaseExpiry, statusChanged, type ObservedWorker } from './device-status.js';
import type { ProfileRollouts } from './profile-rollout.js';
import { rolloutMembers, workerViewOf } from './profile-rollout.js';
import { avoidedNodes, desiredDeployment, type WorkerSettings } from './desired-deployment.js';
import { patchStatus } from '../machinery/status-patch.js';

export interface DeviceCaches {
  devices: Lister<Device>;
  deployments: Lister<V1Deployment>;
  leases: Lister<V1Lease>;
  pods: Lister<V1Pod>;
  nodes: Lister<V1Node>;
  /** Leases in kube-node-lease: a node's kubelet renews one every few seconds. */
  nodeLeases: Lister<V1Lease>;
  /**
   * Started on its own: a cluster without the DeviceProfile CRD (helm upgrade adds no CRDs) still
   * runs its Devices. Until it has synced, a Device with a profileRef waits.
   */
  profiles: Lister<DeviceProfile> & { readonly hasSynced?: boolean };
}

/** The writes a reconcile makes, and nothing more (tests record them). */
export interface DeviceClients {
  objects: Pick<KubernetesObjectApi, 'patch'>;
  customObjects: Pick<CustomObjectsApi, 'patchNamespacedCustomObjectStatus'>;
  core: Pick<CoreV1Api, 'deleteNamespacedPod' | 'createNamespacedEvent'>;
}

/** What reconciling needs of the namespace setup. */
export interface NamespaceEnsurer {
  ensure(namespace: string): Promise<void>;
}

const SPEC_HASH = 'switchforge.io/spec-hash';

/**
 * Converges one Device: its worker Deployment (server-side applied, owned by the Device), its
 * status from the worker's Lease, and eviction of a worker stranded on a lost node.
 */
export class DeviceReconciler implements Reconciler {
  constructor(
    private readonly caches: DeviceCaches,
    private readonly clients: DeviceClients,
    private readonly settings: WorkerSettings,
    private readonly namespaces: NamespaceEnsurer,
    private readonly now: () => Date = () => new Date(),
    /** Throttles profile edits; without it (tests of other behaviour) every Device moves at once. */
    private readonly rollouts?: ProfileRollouts,
  ) {
    this.events = new EventRecorder(clients.core, MANAGER, now);
  }

  private readonly events: EventRecorder;

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const device = this.caches.devices.get(name, namespace);
    // Gone: the garbage collector removes the Deployment and Lease through their owner references.
    if (!device || device.metadata.deletionTimestamp) return;

    // The spec the worker collects with: the Device's own over its profile's. A profile that is
    // missing or does not fit leaves the worker as it was (on the last merged spec) and says why.
    const profileRef = device.spec.profileRef;
    if (profileRef && this.caches.profiles.hasSynced === false) return { requeueAfterMs: 2_000 };
    let effective: EffectiveDeviceSpec | undefined;
    let profileProblem: ProfileError | undefined;
    const profile = profileRef ? this.caches.profiles.get(profileRef.name, namespace) : undefined;
    try {
      effective = effectiveDeviceSpec(device, profile);
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      profileProblem = e;
      log.warn('the device cannot be merged with its profile', {
        device: key,
        reason: e.reason,
        error: e.message,
      });
    }
    // A profile edit reaches its Devices a few at a time (profile-rollout.ts); one that must wait
    // keeps collecting on its last merged spec. Its own edits are never held back.
    const now = this.now();
    let heldBack = false;
    if (
      effective &&
      profile &&
      device.status?.effectiveSpec &&
      this.waitsForItsTurn(device, profile, effective, now)
    ) {
      effective = device.status.effectiveSpec;
      heldBack = true;
    }
    const merged: Pick<DeviceStatus, 'profile' | 'effectiveSpec'> = !profileRef
      ? {}
      : heldBack
        ? { profile: device.status!.profile!, effectiveSpec: effective! }
        : effective
          ? {
              profile: {
                name: profileRef.name,
                ...(profile?.metadata.generation === undefined
                  ? {}
                  : { generation: profile.metadata.generation }),
              },
              effectiveSpec: effective,
            }
          : {
              ...(device.status?.profile ? { profile: device.status.profile } : {}),
              ...(device.status?.effectiveSpec ? { effectiveSpec: device.status.effectiveSpec } : {}),
            };
    // The worker reads the merged spec from the status: it is written before the Deployment that
    // starts the worker, so a new worker never starts without it.
    let written = device;
    if (effective && profileRef && !sameJson(device.status?.effectiveSpec, effective)) {
      await this.patchStatus(namespace, name, mergedStatusPatch(device.status, merged));
      written = { ...device, status: { ...device.status, ...merged } };
    }

    await this.namespaces.ensure(namespace);
    const lease = this.caches.leases.get(deviceLeaseName(name), namespace);
    const holderPod = lease?.spec?.holderIdentity
      ? this.caches.pods.get(lease.spec.holderIdentity, namespace)
      : undefined;

    const expiry = leaseExpiry(lease);
    // No live collector: any worker pod of this device stranded on a lost node is replaced on a
    // live node without waiting for the node controller. Only a device that had a collector can
    // be stranded; one still starting is left alone.
    const stranded =
      expiry && expiry <= now
        ? this.caches.pods
            .list(namespace)
            .filter(
              (p) =>
                p.metadata?.labels?.[LABEL_DEVICE] === name &&
                p.spec?.nodeName !== undefined &&
                this.nodeLost(p.spec.nodeName),
            )
        : [];
    // The template keeps replacements off the lost nodes before the stranded pods go, so that
    // the scheduler cannot put one back there. Nodes avoided before stay avoided until the
    // template changes anyway (dropping one would restart the worker for nothing).
    const applied = this.caches.deployments.get(workerDeploymentName(name), namespace);
    const previously = avoidedNodes(applied);
    const avoid =
      stranded.length > 0
        ? [
            ...new Set([
              ...stranded.map((p) => p.spec!.nodeName!),
              ...previously.filter((n) => this.nodeLost(n)),
            ]),
          ]
        : previously;
    // A Deployment the apiserver refuses (a quota, an admission policy, a limit the schema could not
    // know) is the user's to fix: it becomes the Connected condition and an Event, and is retried
    // slowly, never a silent loop of failed reconciles.
    let deployment: V1Deployment | undefined;
    let applyRefused: ObservedWorker['applyRefused'];
    try {
      deployment = effective ? await this.applyDeployment({ ...device, spec: effective }, avoid) : applied;
    } catch (e) {
      const refusal = applyRefusal(e);
      if (!refusal) throw e;
      applyRefused = { ...refusal, name: workerDeploymentName(name) };
      log.warn('the apiserver refused the worker deployment', { device: key, ...refusal });
    }
    // The template that now avoids the lost node rolls out: the old ReplicaSet goes to zero and
    // deletes the stranded pod. Deleting it ourselves first would let the old ReplicaSet recreate
    // it, without the exclusion, back on the lost node. No kubelet is left to finish that
    // deletion, so a stranded pod already being deleted is removed at once (grace 0), as the
    // node controller would do much later.
    for (const pod of stranded) if (pod.metadata?.deletionTimestamp) await this.evict(pod);

    const { status: computed, transitions } = computeDeviceStatus(
      device,
      {
        ...(profileProblem
          ? { profileProblem: { reason: profileProblem.reason, message: profileProblem.message } }
          : {}),
        ...(deployment ? { deployment } : {}),
        lease,
        holderPod,
        ...(applyRefused ? { applyRefused } : {}),
        workerPods: this.caches.pods
          .list(namespace)
          .filter((p) => p.metadata?.labels?.[LABEL_DEVICE] === name),
      },
      now,
    );
    const status: DeviceStatus = { ...computed, ...merged };
    if (statusChanged(written.status, status, now)) {
      await this.patchStatus(namespace, name, mergedStatusPatch(written.status, status));
      for (const t of transitions)
        await this.events.record(device, { ...t, message: `${t.type}: ${t.message}` });
    }
    // A profile created or fixed re-reconciles its Devices (the profile informer's events).
    if (applyRefused || profileProblem) return { requeueAfterMs: 60_000 };
    // Its turn comes when another Device's worker applies the edit: the profile's reconcile
    // wakes it then (ProfileReconciler); this is only the fallback.
    if (heldBack) return { requeueAfterMs: 10_000 };
    // No watch event fires when a lease lapses: look again just after it would expire, and soon
    // while a lapsed lease waits for its node's lease to lapse too.
    if (expiry && expiry > now) return { requeueAfterMs: expiry.getTime() - now.getTime() + 500 };
    const recentlyLapsed = expiry !== undefined && now.getTime() - expiry.getTime() < 60_000;
    if (recentlyLapsed || stranded.length > 0) return { requeueAfterMs: 1000 };
    return { requeueAfterMs: 30_000 };
  }

  /**
   * The Device is on an older generation of its profile, the profile's edit changes what it
   * collects with, and the rollout has no place for it yet.
   */
  private waitsForItsTurn(
    device: Device,
    profile: DeviceProfile,
    effective: EffectiveDeviceSpec,
    now: Date,
  ): boolean {
    const on = device.status?.profile;
    const generation = profile.metadata.generation;
    if (!this.rollouts || generation === undefined || !on || on.name !== profile.metadata.name) return false;
    if (on.generation === undefined || on.generation >= generation) return false;
    // The Device's own edit since the status was written: the user asked for this Device now.
    if (device.metadata.generation !== device.status?.observedGeneration) return false;
    const connected = device.status?.conditions?.some((c) => c.type === 'Connected' && c.status === 'True');
    const disruptive = connected === true && !sameJson(device.status?.effectiveSpec, effective);
    const members = rolloutMembers(
      profile,
      this.caches.devices.list(device.metadata.namespace),
      (d) => workerViewOf(this.caches, d),
      now,
    );
    return !this.rollouts.admit(profile, keyOf(device), members, disruptive);
  }

  private async patchStatus(namespace: string, name: string, status: unknown): Promise<void> {
    await patchStatus(this.clients.customObjects, { plural: DEVICE.plural, namespace, name }, status);
  }

  private async applyDeployment(
    device: ResolvedDevice,
    avoidNodes: readonly string[],
  ): Promise<V1Deployment> {
    const desired = desiredDeployment(device, this.settings, avoidNodes);
    const hash = createHash('sha256').update(JSON.stringify(desired)).digest('hex').slice(0, 16);
    desired.metadata!.annotations = { ...desired.metadata!.annotations, [SPEC_HASH]: hash };
    const cached = this.caches.deployments.get(
      workerDeploymentName(device.metadata.name!),
      device.metadata.namespace,
    );
    // Level-triggered but frugal: re-apply only when what we want differs from what we last applied.
    if (cached?.metadata?.annotations?.[SPEC_HASH] === hash) return cached;
    const applied = await this.clients.objects.patch(
      desired,
      undefined,
      undefined,
      MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
    log.info('applied worker deployment', { device: `${device.metadata.namespace}/${device.metadata.name}` });
    return applied;
  }

  /** A node that is NotReady, gone, or whose kubelet missed its heartbeats. */
  private nodeLost(nodeName: string): boolean {
    const node = this.caches.nodes.get(nodeName);
    const ready = node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    const heartbeatStale = nodeHeartbeatMissed(
      this.caches.nodeLeases.get(nodeName, 'kube-node-lease'),
      this.now(),
    );
    return !node || ready !== 'True' || heartbeatStale;
  }

  /** Finishes the deletion of a worker on a lost node, where no kubelet will. */
  private async evict(pod: V1Pod): Promise<void> {
    log.warn('removing worker stranded on lost node', { pod: pod.metadata?.name, node: pod.spec?.nodeName });
    try {
      await this.clients.core.deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        gracePeriodSeconds: 0,
      });
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
    }
  }
}

/**
 * A kubelet renews its node Lease every quarter of the lease duration; a node that missed two
 * renewals while one of our workers lost its own Lease is treated as lost, well before the node
 * Lease expires (40 s by default) and the node controller reacts.
 */
export function nodeHeartbeatMissed(nodeLease: V1Lease | undefined, now: Date): boolean {
  const renew = nodeLease?.spec?.renewTime;
  if (!renew) return true;
  const durationMs = (nodeLease.spec?.leaseDurationSeconds ?? 40) * 1000;
  return now.getTime() - new Date(renew).getTime() > durationMs * 0.6;
}

/**
 * The status merge patch: `next` as it is, but the merged spec and its profile patched from what
 * is stored, so that a field or label gone from the merge, or a profileRef removed, is removed.
 */
export function mergedStatusPatch(
  current: DeviceStatus | undefined,
  next: DeviceStatus,
): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const field of ['effectiveSpec', 'profile'] as const) {
    if (next[field] === undefined && current?.[field] === undefined) delete patch[field];
    else patch[field] = mergePatchFrom(current?.[field], next[field]);
  }
  return patch;
}

export function deviceKeyForLabels(
  namespace: string | undefined,
  labels: Record<string, string> | undefined,
): string | undefined {
  const device = labels?.[LABEL_DEVICE];
  return device && namespace ? `${namespace}/${device}` : undefined;
}
