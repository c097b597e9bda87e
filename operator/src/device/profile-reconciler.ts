import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { DEVICE_PROFILE, GROUP, VERSION, type Device, type DeviceProfile } from '@switchforge/platform/crd';
import { splitKey, type Lister } from '@switchforge/platform/kube';
import type { ReconcileResult, Reconciler } from '../machinery/controller.js';

export interface ProfileCaches {
  profiles: Lister<DeviceProfile>;
  devices: Lister<Device>;
}

export interface ProfileClients {
  customObjects: Pick<CustomObjectsApi, 'patchNamespacedCustomObjectStatus'>;
}

/**
 * A DeviceProfile's status: how many Devices of its namespace name it. The Devices' own use of the
 * profile is the Device reconciler's; this one only counts, and writes only a difference.
 */
export class ProfileReconciler implements Reconciler {
  constructor(
    private readonly caches: ProfileCaches,
    private readonly clients: ProfileClients,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const profile = this.caches.profiles.get(name, namespace);
    if (!profile || profile.metadata.deletionTimestamp) return;
    const devices = this.caches.devices
      .list(namespace)
      .filter((d) => d.spec?.profileRef?.name === name && !d.metadata.deletionTimestamp).length;
    const generation = profile.metadata.generation;
    if (profile.status?.devices === devices && profile.status.observedGeneration === generation) return;
    await this.clients.customObjects.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: DEVICE_PROFILE.plural,
        namespace,
        name,
        body: {
          status: { devices, ...(generation === undefined ? {} : { observedGeneration: generation }) },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
