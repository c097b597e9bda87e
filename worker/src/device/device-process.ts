import { createServer, type Server } from 'node:http';
import {
  anyOutputOn,
  API_VERSION,
  DEFAULT_PROTOCOL,
  DEVICE,
  type Device,
  type DeviceProtocol,
} from '@switchforge/platform/crd';
import {
  LABEL_COMPONENT,
  LABEL_DEVICE,
  LABEL_MANAGED_BY,
  MANAGER,
} from '@switchforge/platform/device-worker';
import { LeaseLock } from '@switchforge/platform/lease';
import { log } from '@switchforge/platform/log';
import { errorMessage } from '@switchforge/platform/errors';
import { BackupService } from '../backup/backup-service.js';
import { fetchRunningConfig } from '../backup/fetch.js';
import type { BackupStore } from '../backup/store.js';
import { DeviceWatch } from '../kube/device-watch.js';
import type { KubeConnection } from '../kube/kube-connection.js';
import { workerLeases } from '../kube/leases.js';
import { LiveFeed } from '../live/live-feed.js';
import { startLiveServer } from '../live/live-server.js';
import type { CollectionPlanner } from './collection-plan.js';
import { readDeviceSecrets, type DeviceSecrets } from './device-secrets.js';
import { requireUsableSecrets } from './secret-check.js';
import { DeviceRunner } from './device-runner.js';
import { MemoryGuard } from './memory-guard.js';
import { MetricWriter, type CommittedBatch } from './metric-writer.js';
import type { DeviceOutputs } from '../outputs/device-outputs.js';

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
  /** Bytes the live ring keeps per device (the operator's memory plan). */
  liveRingBytes?: number;
  /** The planned container limit the memory guard measures against; 0 or unset: cgroup and heap only. */
  memoryLimitBytes?: number;
  writeConnections?: number;
  onCommitted?: (batch: CommittedBatch) => void;
  /** Called with the outputs once a Device turns one on (tests read the Prometheus port). */
  onOutputs?: (outputs: DeviceOutputs) => void;
}

/** How often the mounted Secrets are read again: the kubelet updates them in place. */
const SECRETS_REFRESH_MS = 5_000;

type ProtocolPlanner = (device: Device, secrets: DeviceSecrets) => ReturnType<CollectionPlanner>;

/**
 * Each protocol's collector code loads when a Device first asks for it: gRPC or ssh2, never both.
 * A Secret a user must fix throws an InputError before planning: the runner reports it on the Lease.
 */
/** Set on every Device the watch hands over (deviceAsCollected); the default is for the type only. */
const protocolOf = (d: Device): DeviceProtocol => d.spec.protocol ?? DEFAULT_PROTOCOL;

async function loadPlanner(protocol: DeviceProtocol): Promise<ProtocolPlanner> {
  if (protocol === 'netconf') {
    const [{ planNetconf }, { sshKeyError }] = await Promise.all([
      import('../netconf/plan.js'),
      import('../netconf/ssh-key.js'),
    ]);
    return (device, secrets) => {
      requireUsableSecrets(device, secrets, sshKeyError);
      return planNetconf(device, secrets);
    };
  }
  const { planGnmi } = await import('../gnmi/plan.js');
  // gNMI Devices carry no SSH key: nothing to parse.
  const noSshKey = () => undefined;
  return (device, secrets) => {
    requireUsableSecrets(device, secrets, noSshKey);
    return planGnmi(device, secrets);
  };
}

/**
 * The configuration-backup store, opened with the first backup: TypeORM and its second pool of
 * connections are no part of collecting, and most workers back up once a day.
 */
function lazyBackupStore(config: DeviceWorkerConfig): {
  store: Pick<BackupStore, 'saveIfChanged'>;
  close: () => Promise<void>;
} {
  let opened: Promise<{ store: BackupStore; destroy: () => Promise<void> }> | undefined;
  const open = async () => {
    const [{ createDataSource }, { BackupStore }] = await Promise.all([
      import('@switchforge/platform/db'),
      import('../backup/store.js'),
    ]);
    const db = createDataSource({
      url: config.databaseUrl,
      ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
      poolSize: 2,
    });
    await db.initialize();
    return { store: new BackupStore(db), destroy: () => db.destroy() };
  };
  return {
    store: {
      saveIfChanged: async (...args) => {
        opened ??= open().catch((e: unknown) => {
          opened = undefined;
          throw e;
        });
        return (await opened).store.saveIfChanged(...args);
      },
    },
    close: async () => {
      if (opened) await (await opened.catch(() => undefined))?.destroy();
    },
  };
}

/**
 * The device worker process: watches its Device (subscription edits apply in place), holds the
 * collector Lease, collects, writes, and serves /healthz and /readyz. Resolves after a graceful
 * stop (flush, close sessions, release the Lease) once `signal` aborts.
 */
export async function runDeviceWorker(
  config: DeviceWorkerConfig,
  kube: KubeConnection,
  signal: AbortSignal,
): Promise<void> {
  let secrets = await readDeviceSecrets();
  // Committed batches go into a bounded ring that API replicas pull from (see README: live path).
  const feed = new LiveFeed(config.liveRingBytes ? { retention: { maxBytes: config.liveRingBytes } } : {});
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
    // The guard below exists before the first sample arrives (the runner starts after it).
    onAdding: (n) => guard.noteBuffered(n),
  });
  writer.connectEarly();
  const watch = new DeviceWatch(kube, config.namespace, config.name);
  const device = await watch.start();
  if (!device) {
    throw new Error(
      `Device ${config.namespace}/${config.name} not found, or its profile not merged yet (status.effectiveSpec)`,
    );
  }
  const planners = new Map<DeviceProtocol, ProtocolPlanner>([
    [protocolOf(device), await loadPlanner(protocolOf(device))],
  ]);

  const lease = new LeaseLock(workerLeases(kube), {
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
  const backupStore = lazyBackupStore(config);
  const backups = new BackupService({
    store: backupStore.store,
    fetch: (d, abort) => fetchRunningConfig(d, secrets, { signal: abort }),
  });
  backups.updateDevice(device);

  // Near the memory limit: shed (drop and count) rather than be OOM-killed.
  const guard = new MemoryGuard({
    limitBytes: config.memoryLimitBytes ?? 0,
    onPressure: (on) => {
      writer.setMemoryPressure(on);
      feed.setMemoryPressure(on);
    },
  });
  guard.start();

  // Outputs besides PostgreSQL (spec.outputs): their code loads when a Device first turns one on.
  let outputs: DeviceOutputs | undefined;
  let outputsLoading: Promise<DeviceOutputs> | undefined;
  const applyOutputs = (d: Device): void => {
    if (!outputs && !outputsLoading && !anyOutputOn(d.spec)) return;
    outputsLoading ??= import('../outputs/device-outputs.js').then(({ DeviceOutputs }) => {
      outputs = new DeviceOutputs({ device: `${config.namespace}/${config.name}`, host: config.host });
      config.onOutputs?.(outputs);
      return outputs;
    });
    void outputsLoading.then(
      (o) => o.configure(current.spec.outputs, secrets.otlpCaPem ? { otlpCaPem: secrets.otlpCaPem } : {}),
      (e: unknown) => log.error('loading the outputs failed', { error: errorMessage(e) }),
    );
  };

  let current = device;
  const runner = new DeviceRunner({
    memory: guard,
    device: `${config.namespace}/${config.name}`,
    lease,
    renewIntervalMs: Math.max(1000, (config.leaseDurationSeconds * 1000) / 3),
    planner: (d) => planners.get(protocolOf(d))?.(d, secrets) ?? [],
    writer,
    extraLabels: () => current.spec.labels ?? {},
    outputs: { record: (samples) => outputs?.record(samples) },
    leaseAnnotations: () => backups.leaseAnnotations(),
    onLeaseChange: (held) => {
      backups.setActive(held);
      if (!held) outputs?.leaseLost();
    },
  });
  runner.updateDevice(device);
  applyOutputs(device);
  const apply = (d: Device): void => {
    current = d;
    runner.updateDevice(d);
    backups.updateDevice(d);
    applyOutputs(d);
  };
  watch.on((d, kind) => {
    if (d.metadata.name !== config.name || kind === 'delete') return;
    if (d.metadata.generation !== current.metadata.generation) {
      log.info('device spec changed; updating subscriptions in place', { generation: d.metadata.generation });
    }
    if (planners.has(protocolOf(d))) return apply(d);
    // A new protocol: load its collector first, then apply (the latest spec by then).
    current = d;
    void loadPlanner(protocolOf(d)).then(
      (planner) => {
        planners.set(protocolOf(d), planner);
        apply(current);
      },
      (e: unknown) => log.error('loading the protocol collector failed', { error: errorMessage(e) }),
    );
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
        applyOutputs(current);
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
    guard.stop();
    await backups.stop();
    await watch.stop();
    await writer.close();
    await outputs?.close();
    await backupStore.close();
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
