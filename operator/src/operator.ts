import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  type V1Deployment,
  type V1Lease,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  DEVICE,
  DEVICE_PROFILE,
  type Device,
  type DeviceProfile,
} from '@switchforge/platform/crd';
import {
  LABEL_COMPONENT,
  LABEL_DEVICE,
  LABEL_MANAGED_BY,
  MANAGER,
} from '@switchforge/platform/device-worker';
import { LeaseLock, runWithLeaderElection } from '@switchforge/platform/lease';
import { clientNodeLeases } from '@switchforge/platform/lease/client-node';
import { log } from '@switchforge/platform/log';
import type { OperatorConfig } from './config.js';
import { startHealthServer } from './health-server.js';
import { Controller } from './machinery/controller.js';
import { keyOf } from '@switchforge/platform/kube';
import { CORE, InformerFactory } from '@switchforge/platform/kube/informer-factory';
import { DeviceReconciler, deviceKeyForLabels } from './device/device-reconciler.js';
import { NamespaceSetup } from './device/namespace-setup.js';
import { ProfileIndex } from './device/profile-index.js';
import { ProfileReconciler } from './device/profile-reconciler.js';
import { ProfileRollouts } from './device/profile-rollout.js';
import { readAudioOperatorConfig, startAudioJobControllers } from './audiojob/index.js';
import { discoveryController } from './discovery/index.js';
import { inventoryController } from './inventory/index.js';

export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/**
 * The operator process: health endpoints at once, then — while it holds the leader Lease — the
 * informers and controllers. Resolves when `signal` aborts (graceful) or leadership is lost.
 */
export async function runOperator(
  config: OperatorConfig,
  kc: KubeConfig,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<'lost' | 'stopped'> {
  const health = await startHealthServer(config.SWITCHFORGE_HEALTH_PORT, () => !signal.aborted);
  const lock = new LeaseLock(clientNodeLeases(kc.makeApiClient(CoordinationV1Api)), {
    namespace: config.SWITCHFORGE_OPERATOR_NAMESPACE,
    name: 'switchforge-operator',
    identity: config.POD_NAME,
    durationSeconds: config.SWITCHFORGE_LEADER_LEASE_SECONDS,
  });
  try {
    return await runWithLeaderElection(
      {
        lock,
        retryPeriodMs: 2000,
        renewDeadlineMs: (config.SWITCHFORGE_LEADER_LEASE_SECONDS * 1000 * 2) / 3,
        onError: (e) => log.warn('leader election', { error: String(e) }),
      },
      signal,
      async (leading) => {
        log.info('leading', { identity: config.POD_NAME });
        const stopDevices = await startControllers(config, kc);
        // Audio pipelines need Temporal; an operator without TEMPORAL_ADDRESS manages Devices only.
        const stopAudio = env.TEMPORAL_ADDRESS
          ? await startAudioJobControllers(kc, readAudioOperatorConfig(env))
          : async () => undefined;
        await new Promise<void>((res) => leading.addEventListener('abort', () => res(), { once: true }));
        await Promise.all([stopDevices(), stopAudio()]);
      },
    );
  } finally {
    await new Promise((res) => health.close(res));
  }
}

async function startControllers(config: OperatorConfig, kc: KubeConfig): Promise<() => Promise<void>> {
  const core = kc.makeApiClient(CoreV1Api);
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const workerSelector = `${LABEL_MANAGED_BY}=${MANAGER},${LABEL_COMPONENT}=device-worker`;

  const informers = new InformerFactory(kc, config.SWITCHFORGE_WATCH_NAMESPACE);
  const caches = {
    devices: informers.informer<Device>('devices', { apiVersion: API_VERSION, ...DEVICE }),
    deployments: informers.informer<V1Deployment>('deployments', CORE.deployments, {
      labelSelector: workerSelector,
    }),
    pods: informers.informer<V1Pod>('pods', CORE.pods, { labelSelector: workerSelector }),
    leases: informers.informer<V1Lease>('device-leases', CORE.leases, { labelSelector: LABEL_DEVICE }),
    nodes: informers.informer<V1Node>('nodes', CORE.nodes),
    nodeLeases: informers.informer<V1Lease>('node-leases', CORE.leases, { namespace: 'kube-node-lease' }),
  };
  // Not among the caches started first: see DeviceCaches.profiles.
  const profiles = informers.informer<DeviceProfile>('deviceprofiles', {
    apiVersion: API_VERSION,
    ...DEVICE_PROFILE,
  });

  const reconciler = new DeviceReconciler(
    { ...caches, profiles },
    { objects, customObjects, core },
    {
      image: config.SWITCHFORGE_WORKER_IMAGE,
      command: config.SWITCHFORGE_WORKER_COMMAND,
      workingDir: config.SWITCHFORGE_WORKER_WORKDIR,
      imagePullPolicy: config.SWITCHFORGE_WORKER_PULL_POLICY,
      // Memory comes from each Device's plan (platform/src/worker-memory.ts).
      defaultResources: { requests: { cpu: '50m' }, limits: {} },
      leaseDurationSeconds: config.SWITCHFORGE_WORKER_LEASE_SECONDS,
      nodeSelector: config.SWITCHFORGE_WORKER_NODE_SELECTOR,
      tolerations: config.SWITCHFORGE_WORKER_TOLERATIONS,
      ...(config.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
    },
    new NamespaceSetup(objects, config.SWITCHFORGE_WORKER_DATABASE_URL),
    undefined,
    new ProfileRollouts(),
  );
  const controller = new Controller('device', reconciler, config.SWITCHFORGE_RECONCILE_WORKERS);

  const profileController = new Controller(
    'deviceprofile',
    // While an edit rolls out, the profile's reconcile hands the places that free up to the
    // Devices still waiting (a worker applying the edit changes its Lease, not the others).
    new ProfileReconciler({ ...caches, profiles }, { customObjects }, (keys) => {
      for (const k of keys) controller.enqueue(k);
    }),
    1,
  );
  const profileIndex = new ProfileIndex();
  caches.devices.on((d, kind) => {
    controller.enqueue(keyOf(d));
    for (const p of profileIndex.update(d, kind)) profileController.enqueue(p);
  });
  // A profile changed, created or deleted: each Device that names it merges again. Its own
  // status writes (a rollout's progress) leave the generation as it is and wake no Device.
  const profileGenerations = new Map<string, number | undefined>();
  profiles.on((p, kind) => {
    const key = keyOf(p);
    const changed = kind !== 'update' || profileGenerations.get(key) !== p.metadata.generation;
    if (kind === 'delete') profileGenerations.delete(key);
    else profileGenerations.set(key, p.metadata.generation);
    if (changed) for (const d of profileIndex.devices(key)) controller.enqueue(d);
    profileController.enqueue(key);
  });
  for (const cache of [caches.deployments, caches.pods, caches.leases]) {
    cache.on((o: KubernetesObject) => {
      const key = deviceKeyForLabels(o.metadata?.namespace, o.metadata?.labels);
      if (key) controller.enqueue(key);
    });
  }
  // Caches first, then reconcile: a reconcile must never see a half-listed world.
  await Promise.all(Object.values(caches).map((c) => c.start()));
  controller.start();
  log.info('controllers started', { devices: caches.devices.list().length });

  // Discovery waits for its own cache without holding Devices back: `helm upgrade` does not add
  // new CRDs, and an operator on a cluster without the DeviceDiscovery (or DeviceInventory) CRD
  // still manages Devices. Inventory likewise.
  const discovery = discoveryController(kc, informers, caches.devices);
  const inventory = inventoryController(kc, informers, caches.devices);
  let stopping = false;
  void profiles.start().then(async () => {
    if (stopping) return profiles.stop();
    profileController.start();
    log.info('device profile controller started', { profiles: profiles.list().length });
  });
  void discovery.discoveries.start().then(async () => {
    // Stopped while still listing: the informer may have started again after its stop.
    if (stopping) return discovery.discoveries.stop();
    discovery.controller.start();
    log.info('discovery controller started', { discoveries: discovery.discoveries.list().length });
  });
  void inventory.inventories.start().then(async () => {
    if (stopping) return inventory.inventories.stop();
    inventory.controller.start();
    log.info('inventory controller started', { inventories: inventory.inventories.list().length });
  });

  return async () => {
    stopping = true;
    await Promise.all([discovery.discoveries.stop(), inventory.inventories.stop(), profiles.stop()]);
    await Promise.all([
      controller.stop(),
      discovery.controller.stop(),
      inventory.controller.stop(),
      profileController.stop(),
    ]);
    await Promise.all(Object.values(caches).map((c) => c.stop()));
  };
}
