/** The DeviceDiscovery controller's wiring: its informer, its Secret reader, its work queue. */
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, DEVICE_DISCOVERY, type Device, type DeviceDiscovery } from '@switchforge/platform/crd';
import { isStatus } from '@switchforge/platform/lease';
import { keyOf, type Lister, type SupervisedInformer } from '@switchforge/platform/kube';
import type { InformerFactory } from '@switchforge/platform/kube/informer-factory';
import { Controller } from '../machinery/controller.js';
import { DiscoveryReconciler } from './discovery-reconciler.js';
import { DiscoverySecretError, type SecretReader } from './probe-settings.js';

/**
 * Reads a Secret through the API (the chart grants `get` on Secrets only with discovery or
 * inventory enabled; `chartValue` names the one to set).
 */
export function apiSecretReader(
  core: Pick<CoreV1Api, 'readNamespacedSecret'>,
  chartValue = 'discovery.enabled',
): SecretReader {
  return async (namespace, name) => {
    try {
      const secret = await core.readNamespacedSecret({ namespace, name });
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
      );
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      if (isStatus(e, 403))
        throw new DiscoverySecretError(
          `the operator may not read Secret ${namespace}/${name}: install the chart with ${chartValue}=true`,
          'SecretForbidden',
        );
      throw e;
    }
  };
}

export function discoveryController(
  kc: KubeConfig,
  informers: InformerFactory,
  devices: Lister<Device>,
  workers = 2,
): { controller: Controller; discoveries: SupervisedInformer<DeviceDiscovery> } {
  const discoveries = informers.informer<DeviceDiscovery>('devicediscoveries', {
    apiVersion: API_VERSION,
    ...DEVICE_DISCOVERY,
  });
  const core = kc.makeApiClient(CoreV1Api);
  const reconciler = new DiscoveryReconciler(
    { discoveries, devices },
    {
      objects: KubernetesObjectApi.makeApiClient(kc),
      customObjects: kc.makeApiClient(CustomObjectsApi),
      core,
      readSecret: apiSecretReader(core),
    },
  );
  // A run holds its worker for as long as its probes take; two runs at once keep one long
  // discovery from delaying every other.
  const controller = new Controller('devicediscovery', reconciler, workers);
  discoveries.on((d) => controller.enqueue(keyOf(d)));
  return { controller, discoveries };
}
