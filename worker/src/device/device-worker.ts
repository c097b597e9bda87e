import {
  CoordinationV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
} from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import { API_VERSION, DEVICE, GROUP, VERSION, type Device } from '@switchforge/platform/crd';
import {
  LABEL_COMPONENT,
  LABEL_DEVICE,
  LABEL_MANAGED_BY,
  MANAGER,
} from '@switchforge/platform/device-worker';
import { SupervisedInformer } from '@switchforge/platform/kube';
import { LeaseLock } from '@switchforge/platform/lease';
import { log } from '@switchforge/platform/log';
import { createDataSource } from '@switchforge/platform/db';
import { BackupService } from '../backup/backup-service.js';
import { fetchRunningConfig } from '../backup/fetch.js';
import { BackupStore } from '../backup/store.js';
import { LiveFeed } from '../live/live-feed.js';
import { startLiveServer } from '../live/live-server.js';
import { planGnmi } from '../gnmi/plan.js';
import { planNetconf } from '../netconf/plan.js';
import type { CollectionPlanner } from './collection-plan.js';
import { readDeviceSecrets, type DeviceSecrets } from './device-secrets.js';
import { requireUsableSecrets } from './secret-check.js';
import { DeviceRunner } from './device-runner.js';
import { MetricWriter, type CommittedBatch } from './metric-writer.js';

export interface DeviceWorkerConfig {
  namespace: string;
  name: string;
  podName: string;
  leaseName: string;
  leaseDurationSeconds: number;
  databaseUrl: string;
  databaseSchema?: string;
  host: string;
  healthPort: number;
  livePort: number;
  batchSize: number;
  flushIntervalMs: number;
  maxBufferedSamples: number;
  writeConnections?: number;
  onCommitted?: (batch: CommittedBatch) => void;
}

/** How often the mounted Secrets are read again: the kubelet updates them in place. */
const SECRETS_REFRESH_MS = 5_000;

function planFor(secrets: () => DeviceSecrets): CollectionPlanner {
  return (device) => {
    // A Secret a user must fix throws an InputError: the runner reports it on the Lease.
    requireUsableSecrets(device, secrets());
    return device.spec.protocol === 'netconf' ? planNetconf(device, secrets()) : planGnmi(device, secrets());
  };
}

/**
 * The device worker process: watches its Device (subscription edits apply in place), holds the
 * collector Lease, collects, writes, and serves /healthz and /readyz. Resolves after a graceful
 * stop (flush, close sessions, release the Lease) once `signal` aborts.
 */
export async function runDeviceWorker(
  config: DeviceWorkerConfig,
  kc: KubeConfig,
  signal: AbortSignal,
): Promise<void> {
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  let secrets = await readDeviceSecrets();
  // Committed batches go into a bounded ring that API replicas pull from (see README: live path).
  const feed = new LiveFeed();
  const live = await startLiveServer(feed, { host: config.host, port: config.livePort });
  const writer = new MetricWriter({
    databaseUrl: config.databaseUrl,
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    batchSize: config.batchSize,
    flushIntervalMs: config.flushIntervalMs,
    maxBufferedSamples: config.maxBufferedSamples,
    ...(config.writeConnections ? { connections: config.writeConnections } : {}),
    onCommitted: (batch) => {
      feed.publish(batch);
      config.onCommitted?.(batch);
    },
  });
  const informer = new SupervisedInformer<Device>(kc, {
    name: 'device',
    path: `/apis/${GROUP}/${VERSION}/namespaces/${config.namespace}/${DEVICE.plural}`,
    list: () =>
      customObjects.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: config.namespace,
        plural: DEVICE.plural,
        fieldSelector: `metadata.name=${config.name}`,
      }) as Promise<KubernetesListObject<Device>>,
  });
  await informer.start();
  const device = informer.get(config.name, config.namespace);
  if (!device) throw new Error(`Device ${config.namespace}/${config.name} not found`);

  const lease = new LeaseLock(kc.makeApiClient(CoordinationV1Api), {
    namespace: config.namespace,
    name: config.leaseName,
    identity: config.podName,
    durationSeconds: config.leaseDurationSeconds,
    labels: { [LABEL_DEVICE]: config.name, [LABEL_COMPONENT]: 'device-worker', [LABEL_MANAGED_BY]: MANAGER },
    // Owned by the Device, so deleting the Device garbage-collects its Lease too.
    ownerReferences: [
      { apiVersion: API_VERSION, kind: DEVICE.kind, name: config.name, uid: device.metadata.uid! },
    ],
  });
  // Configuration backups run beside collection, only while this worker holds the Lease.
  const backupDb = createDataSource({
    url: config.databaseUrl,
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    poolSize: 2,
  });
  await backupDb.initialize();
  const backups = new BackupService({
    store: new BackupStore(backupDb),
    fetch: (d, abort) => fetchRunningConfig(d, secrets, { signal: abort }),
  });
  backups.updateDevice(device);

  let current = device;
  const runner = new DeviceRunner({
    device: `${config.namespace}/${config.name}`,
    lease,
    renewIntervalMs: Math.max(1000, (config.leaseDurationSeconds * 1000) / 3),
    planner: planFor(() => secrets),
    writer,
    extraLabels: () => current.spec.labels ?? {},
    leaseAnnotations: () => backups.leaseAnnotations(),
    onLeaseChange: (held) => backups.setActive(held),
  });
  runner.updateDevice(device);
  informer.on((d, kind) => {
    if (d.metadata.name !== config.name || kind === 'delete') return;
    if (d.metadata.generation !== current.metadata.generation) {
      log.info('device spec changed; updating subscriptions in place', { generation: d.metadata.generation });
    }
    current = d;
    runner.updateDevice(d);
    backups.updateDevice(d);
  });
  backups.start();
  // A Secret created, fixed or rotated after the pod started: plan again with what is mounted now.
  let secretsSeen = JSON.stringify(secrets);
  const refresh = setInterval(() => {
    void readDeviceSecrets()
      .then((next) => {
        const seen = JSON.stringify(next);
        if (seen === secretsSeen) return;
        secretsSeen = seen;
        secrets = next;
        log.info('device secrets changed; planning the sessions again');
        runner.updateDevice(current);
      })
      .catch((e: unknown) => log.warn('reading device secrets failed', { error: String(e) }));
  }, SECRETS_REFRESH_MS);
  refresh.unref();

  const health = await serveHealth(config.host, config.healthPort, () => ({
    live: true,
    // Ready: holding the lease, or standing by for it; not ready once stopping.
    ready: !signal.aborted,
  }));
  try {
    await runner.run(signal);
  } finally {
    clearInterval(refresh);
    await backups.stop();
    await informer.stop();
    await writer.close();
    await backupDb.destroy();
    await live.close();
    await new Promise((res) => health.close(res));
  }
}

async function serveHealth(
  host: string,
  port: number,
  state: () => { live: boolean; ready: boolean },
): Promise<Server> {
  const server = createServer((req, res) => {
    const s = state();
    const ok = req.url === '/healthz' ? s.live : req.url === '/readyz' ? s.ready : undefined;
    res.statusCode = ok === undefined ? 404 : ok ? 200 : 503;
    res.end(ok === undefined ? 'not found' : ok ? 'ok' : 'not ready');
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res());
  });
  return server;
}
