/** The DeviceInventory controller's wiring: its informer, its Secret reader, its work queue. */
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, DEVICE_INVENTORY, type Device, type DeviceInventory } from '@switchforge/platform/crd';
import { keyOf, type Lister, type SupervisedInformer } from '@switchforge/platform/kube';
import type { InformerFactory } from '@switchforge/platform/kube/informer-factory';
import { Controller } from '../machinery/controller.js';
import { apiSecretReader } from '../discovery/index.js';
import { InventoryReconciler } from './inventory-reconciler.js';

export function inventoryController(
  kc: KubeConfig,
  informers: InformerFactory,
  devices: Lister<Device>,
  workers = 2,
): { controller: Controller; inventories: SupervisedInformer<DeviceInventory> } {
  const inventories = informers.informer<DeviceInventory>('deviceinventories', {
    apiVersion: API_VERSION,
    ...DEVICE_INVENTORY,
  });
  const core = kc.makeApiClient(CoreV1Api);
  const reconciler = new InventoryReconciler(
    { inventories, devices },
    {
      objects: KubernetesObjectApi.makeApiClient(kc),
      customObjects: kc.makeApiClient(CustomObjectsApi),
      core,
      readSecret: apiSecretReader(core, 'inventory.enabled'),
    },
  );
  // A sync holds its worker for as long as its pages take; two at once keep one slow inventory
  // from delaying every other.
  const controller = new Controller('deviceinventory', reconciler, workers);
  inventories.on((i) => controller.enqueue(keyOf(i)));
  return { controller, inventories };
}
