import { type CustomObjectsApi } from '@kubernetes/client-node';
import {
  DEVICE_PROFILE,
  ProfileRolloutReason,
  setCondition,
  type Device,
  type DeviceProfile,
  type DeviceProfileStatus,
} from '@switchforge/platform/crd';
import { splitKey, type Lister } from '@switchforge/platform/kube';
import type { ReconcileResult, Reconciler } from '../machinery/controller.js';
import { sameJson } from '../machinery/merge-patch.js';
import {
  concurrencyLimit,
  rolloutMembers,
  rolloutProgress,
  workerViewOf,
  type WorkerCaches,
} from './profile-rollout.js';
import { patchStatus } from '../machinery/status-patch.js';

export interface ProfileCaches extends WorkerCaches {
  profiles: Lister<DeviceProfile>;
  devices: Lister<Device>;
}

export interface ProfileClients {
  customObjects: Pick<CustomObjectsApi, 'patchNamespacedCustomObjectStatus'>;
}

/** Devices named in the RolledOut message, at most. */
const NAMED = 5;

/**
 * A DeviceProfile's status: how many Devices of its namespace name it, how many run on its
 * generation, and whether its last edit has rolled out. The Devices' own use of the profile, and
 * the pace of a rollout, are the Device reconciler's; this one only observes, and writes only a
 * difference.
 */
export class ProfileReconciler implements Reconciler {
  constructor(
    private readonly caches: ProfileCaches,
    private readonly clients: ProfileClients,
    /** Reconciles these Devices again: places in the rollout are free for them. */
    private readonly wake: (deviceKeys: string[]) => void = () => {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const profile = this.caches.profiles.get(name, namespace);
    if (!profile || profile.metadata.deletionTimestamp) return;
    const now = this.now();
    const generation = profile.metadata.generation ?? 0;
    const members = rolloutMembers(
      profile,
      this.caches.devices.list(namespace),
      (d) => workerViewOf(this.caches, d),
      now,
    );
    const { updated, inProgress, pending } = rolloutProgress(generation, members);
    const done = updated.length === members.length;
    const limit = concurrencyLimit(profile.spec.rollout?.maxConcurrent, members.length);
    const waiting = [...inProgress, ...pending];
    const named = waiting.slice(0, NAMED).map((k) => splitKey(k).name);
    const message = done
      ? `${members.length} Devices run generation ${generation}`
      : `${updated.length} of ${members.length} Devices run generation ${generation}; ` +
        `${inProgress.length} updating (at most ${limit} at a time), ${pending.length} waiting: ` +
        named.join(', ') +
        (waiting.length > NAMED ? `, and ${waiting.length - NAMED} more` : '');
    const status: DeviceProfileStatus = {
      observedGeneration: generation,
      devices: members.length,
      updatedDevices: updated.length,
      conditions: setCondition(
        profile.status?.conditions,
        {
          type: 'RolledOut',
          status: done ? 'True' : 'False',
          reason: done ? ProfileRolloutReason.RolloutComplete : ProfileRolloutReason.Progressing,
          message,
          observedGeneration: generation,
        },
        now,
      ),
    };
    if (!sameJson(profile.status ?? {}, status)) {
      await patchStatus(
        this.clients.customObjects,
        { plural: DEVICE_PROFILE.plural, namespace, name },
        status,
      );
    }
    if (done) return;
    // Places free: the next Devices in line try for them (the Device reconciler decides).
    const free = limit - inProgress.length;
    // Never merged (a profile problem of their own) is not waiting for a place.
    const inLine = members.filter((m) => m.generation !== undefined && m.generation !== generation);
    if (free > 0 && inLine.length > 0) this.wake(inLine.slice(0, free).map((m) => m.key));
    // A worker applying the edit changes its Lease, not the profile: look again while it rolls out.
    return { requeueAfterMs: 1_000 };
  }
}
