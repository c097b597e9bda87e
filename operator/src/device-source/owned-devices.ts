/**
 * What every source of Devices (DeviceDiscovery, DeviceInventory) shares about the Devices it
 * creates: the owner reference that makes them its own, which of them it no longer finds, and
 * the writes (server-side apply of a Device, the gone-since annotation, the source's status).
 * The marking rules are pure; SourceWrites is the one place that sends them.
 */
import {
  PatchStrategy,
  type CustomObjectsApi,
  type KubernetesObjectApi,
  type V1ObjectMeta,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { API_VERSION, formatTime, type Device } from '@switchforge/platform/crd';
import { MANAGER } from '@switchforge/platform/device-worker';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { patchStatus } from '../machinery/status-patch.js';

/** A custom resource that creates Devices. */
export interface DeviceSource {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
}

/** The controller owner reference: deleting the source deletes what it created (garbage collector). */
export function ownerReference(source: DeviceSource): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: source.kind,
    name: source.metadata.name!,
    uid: source.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Whether this source controls the Device (its controller owner reference). */
export function ownedBy(device: Device, source: DeviceSource): boolean {
  return (device.metadata.ownerReferences ?? []).some(
    (r) => r.controller === true && r.uid === source.metadata.uid,
  );
}

export interface MissingMark {
  name: string;
  /** RFC 3339 to set, or null to remove the annotation. */
  since: string | null;
}

/**
 * The missing-since changes after a run: a Device the source owns and did not find gets the
 * annotation (its first missing time kept), one found again loses it. A missing Device is kept,
 * not deleted: a switch down for maintenance, a probe timing out or an entry briefly taken out of
 * an inventory must not take its history, its worker and any hand-made edits with it; whoever
 * runs the network deletes it once it is gone for good (and the annotation says since when).
 */
export function missingMarksFor(
  annotation: string,
  owned: readonly Device[],
  foundNames: ReadonlySet<string>,
  now: Date,
): { marks: MissingMark[]; missing: number } {
  const marks: MissingMark[] = [];
  let missing = 0;
  for (const d of owned) {
    const name = d.metadata.name!;
    const since = d.metadata.annotations?.[annotation];
    if (foundNames.has(name)) {
      if (since !== undefined) marks.push({ name, since: null });
    } else {
      missing += 1;
      if (since === undefined) marks.push({ name, since: formatTime(now) });
    }
  }
  return { marks, missing };
}

export interface SourceClients {
  objects: Pick<KubernetesObjectApi, 'patch'>;
  customObjects: Pick<CustomObjectsApi, 'patchNamespacedCustomObjectStatus'>;
}

/** The writes a source's reconciler makes. */
export class SourceWrites {
  constructor(
    private readonly clients: SourceClients,
    /** The source's plural (devicediscoveries, deviceinventories). */
    private readonly plural: string,
    /** The annotation that marks a Device the source no longer finds. */
    private readonly missingAnnotation: string,
  ) {}

  /** Server-side applies a Device the source wants, as the operator's field manager. */
  async applyDevice(device: Device): Promise<void> {
    await this.clients.objects.patch(
      device,
      undefined,
      undefined,
      MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  /**
   * Marks the owned Devices not in `foundNames`, unmarks those found again; returns how many are
   * missing.
   */
  async markMissing(
    namespace: string,
    owned: readonly Device[],
    foundNames: ReadonlySet<string>,
    now: Date,
  ): Promise<number> {
    const { marks, missing } = missingMarksFor(this.missingAnnotation, owned, foundNames, now);
    for (const mark of marks) await this.mark(namespace, mark);
    return missing;
  }

  private async mark(namespace: string, { name, since }: MissingMark): Promise<void> {
    try {
      await this.clients.objects.patch(
        {
          apiVersion: API_VERSION,
          kind: 'Device',
          metadata: { name, namespace, annotations: { [this.missingAnnotation]: since } },
        } as unknown as Device,
        undefined,
        undefined,
        MANAGER,
        undefined,
        PatchStrategy.MergePatch,
      );
    } catch (e) {
      // A Device deleted meanwhile is no longer ours to mark.
      log.warn('could not mark a sourced device', { device: `${namespace}/${name}`, error: errorMessage(e) });
    }
  }

  /** Merge-patches the source's status subresource. */
  async writeStatus(source: DeviceSource, status: object): Promise<void> {
    await patchStatus(
      this.clients.customObjects,
      { plural: this.plural, namespace: source.metadata.namespace!, name: source.metadata.name! },
      status,
    );
  }
}
