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
  type KubernetesListObject,
} from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { AUDIO_JOB, GROUP, VERSION, type AudioJob } from '@switchforge/platform/crd';
import { keyOf, SupervisedInformer } from '@switchforge/platform/kube';
import { log } from '@switchforge/platform/log';
import { JobStorage } from '@switchforge/worker/audio/storage';
import { Controller } from '../machinery/controller.js';
import { AudioJobReconciler } from './audiojob-reconciler.js';
import type { AudioOperatorConfig } from './config.js';
import { POOL_KEY, PoolScaler } from './pool/pool-scaler.js';

export { readAudioOperatorConfig, type AudioOperatorConfig, type PoolConfig, type PoolScaling } from './config.js';
export { FINALIZER } from './audiojob-reconciler.js';
export { POOL_DEPLOYMENT } from './pool/pool-deployment.js';

/** Starts the informer and the controllers; resolves once the cache has synced. */
export async function startAudioJobControllers(kc: KubeConfig, config: AudioOperatorConfig): Promise<() => Promise<void>> {
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const ns = config.watchNamespace;
  const plural = AUDIO_JOB.plural;

  const jobs = new SupervisedInformer<AudioJob>(kc, {
    name: 'audiojobs',
    path: ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`,
    list: () =>
      (ns
        ? customObjects.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural })
        : customObjects.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as Promise<
        KubernetesListObject<AudioJob>
      >,
  });
  const jobController = new Controller(
    'audiojob',
    new AudioJobReconciler({
      jobs,
      customObjects,
      core: kc.makeApiClient(CoreV1Api),
      temporal,
      storage: new JobStorage(config.storageRoot),
      queuePrefix: config.queuePrefix,
      progressPollMs: config.progressPollMs,
    }),
    config.reconcileWorkers,
  );
  jobs.on((job) => jobController.enqueue(keyOf(job)));

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
  if (poolController) {
    poolController.start();
    poolController.enqueue(POOL_KEY);
  }
  log.info('audio controllers started', { jobs: jobs.list().length, pool: Boolean(config.pool) });

  return async () => {
    await Promise.all([jobController.stop(), poolController?.stop()]);
    scaler?.close();
    await jobs.stop();
    await connection.close();
  };
}
