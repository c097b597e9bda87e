import { metrics, type BatchObservableResult, type ObservableResult } from '@opentelemetry/api';
/**
 * The audio side of the operator: the AudioJob controller and the audio worker pool scaler.
 * operator.ts calls startAudioJobControllers while it leads and the returned stop when it stops.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
} from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { readTemporalTls } from '@switchforge/platform/config';
import { API_VERSION, AUDIO_JOB, type AudioJob } from '@switchforge/platform/crd';
import { keyOf } from '@switchforge/platform/kube';
import { InformerFactory } from '@switchforge/platform/kube/informer-factory';
import { log } from '@switchforge/platform/log';
import { startJanitor, type StorageUsage } from '@switchforge/platform/audio/janitor';
import { openStore } from '@switchforge/platform/audio/store/store-config';
import { traceContextClientInterceptor } from '@switchforge/platform/audio/trace-client-interceptor';
import { Controller } from '../machinery/controller.js';
import { AudioJobReconciler } from './audiojob-reconciler.js';
import type { AudioOperatorConfig } from './config.js';
import { POOL_KEY, PoolScaler } from './pool/pool-scaler.js';

export {
  readAudioOperatorConfig,
  type AudioOperatorConfig,
  type PoolConfig,
  type PoolScaling,
} from './config.js';
export { FINALIZER } from './audiojob-reconciler.js';
export { POOL_DEPLOYMENT } from './pool/pool-deployment.js';

const meter = metrics.getMeter('switchforge-operator');
const jobsByPhase = meter.createObservableGauge('switchforge.operator.audio.jobs', {
  description: 'AudioJobs by namespace and status.phase, as the operator sees them',
});
const storageBytes = meter.createObservableGauge('switchforge.audio.storage.bytes', {
  description: 'Audio bytes stored per namespace (inputs and job files), as of the last janitor sweep',
  unit: 'By',
});
const storageObjects = meter.createObservableGauge('switchforge.audio.storage.objects', {
  description: 'Audio files (volume) or objects (bucket) stored per namespace, as of the last janitor sweep',
});

/** Starts the informer and the controllers; resolves once the cache has synced. */

export async function startAudioJobControllers(
  kc: KubeConfig,
  config: AudioOperatorConfig,
): Promise<() => Promise<void>> {
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  const tls = await readTemporalTls(config.temporalTlsEnv);
  const connection = await Connection.connect({ address: config.temporal.address, ...(tls ? { tls } : {}) });
  // Workflows started inside a reconcile span carry its trace context to their activities.
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    interceptors: { workflow: [traceContextClientInterceptor] },
  });
  const jobs = new InformerFactory(kc, config.watchNamespace).informer<AudioJob>('audiojobs', {
    apiVersion: API_VERSION,
    ...AUDIO_JOB,
  });
  const store = await openStore(config.store, config.storageRoot);
  const jobController = new Controller(
    'audiojob',
    new AudioJobReconciler({
      jobs,
      customObjects,
      core: kc.makeApiClient(CoreV1Api),
      temporal,
      store,
      queuePrefix: config.queuePrefix,
      progressPollMs: config.progressPollMs,
    }),
    config.reconcileWorkers,
  );
  jobs.on((job) => jobController.enqueue(keyOf(job)));
  // Jobs by phase, from the cache: what the audio dashboard's "jobs by phase" panel shows.
  const observeJobs = (result: ObservableResult): void => {
    const counts = new Map<string, number>();
    for (const job of jobs.list()) {
      const key = `${job.metadata.namespace}\u0000${job.status?.phase ?? 'Pending'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [key, n] of counts) {
      const [namespace, phase] = key.split('\u0000');
      result.observe(n, { namespace: namespace ?? '', phase: phase ?? 'Pending' });
    }
  };
  jobsByPhase.addCallback(observeJobs);

  // Orphaned job files and objects (a deletion whose finalizer never ran); the sweep measures
  // what is stored per namespace on the way.
  let usage: StorageUsage = new Map();
  const storageCallback = (r: BatchObservableResult): void => {
    for (const [namespace, u] of usage) {
      r.observe(storageBytes, u.bytes, { namespace, mode: store.kind });
      r.observe(storageObjects, u.objects, { namespace, mode: store.kind });
    }
  };
  meter.addBatchObservableCallback(storageCallback, [storageBytes, storageObjects]);

  let scaler: PoolScaler | undefined;
  let poolController: Controller | undefined;
  if (config.pool) {
    scaler = new PoolScaler(
      config.pool,
      { temporal: config.temporal, queuePrefix: config.queuePrefix, storageRoot: config.storageRoot },
      { apps: kc.makeApiClient(AppsV1Api), objects: KubernetesObjectApi.makeApiClient(kc), temporal },
    );
    poolController = new Controller('audio-pool', scaler, 1);
  }

  try {
    await jobs.start();
  } catch (e) {
    await connection.close();
    throw e;
  }
  jobController.start();
  const stopJanitor = startJanitor({
    store,
    intervalMs: config.janitor.intervalMs,
    minAgeMs: config.janitor.minAgeMs,
    // Only a synced cache may say a job is gone (the informer has synced once start resolved).
    listLiveUids: () => Promise.resolve(new Set(jobs.list().map((j) => j.metadata.uid ?? ''))),
    onSweep: (r) => {
      usage = r.usage;
      if (r.removed.length > 0) log.info('audio janitor removed orphaned job files', { jobs: r.removed });
    },
    onError: (message) => log.warn('audio janitor sweep failed', { error: message }),
  });
  if (poolController) {
    poolController.start();
    poolController.enqueue(POOL_KEY);
  }
  log.info('audio controllers started', { jobs: jobs.list().length, pool: Boolean(config.pool) });

  return async () => {
    stopJanitor();
    meter.removeBatchObservableCallback(storageCallback, [storageBytes, storageObjects]);
    await Promise.all([jobController.stop(), poolController?.stop()]);
    scaler?.close();
    jobsByPhase.removeCallback(observeJobs);
    await jobs.stop();
    await connection.close();
  };
}
