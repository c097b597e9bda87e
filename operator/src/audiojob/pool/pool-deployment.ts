import type { V1Deployment, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_NAME, MANAGER } from '@switchforge/platform/device-worker';
import { STORE_ENV } from '@switchforge/platform/audio/store/store-config';
import {
  CONTAINER_SECURITY_CONTEXT,
  POD_SECURITY_CONTEXT,
  SECRET_FILE_MODE,
} from '@switchforge/platform/image-layout';
import type { PoolConfig } from '../config.js';

export const POOL_DEPLOYMENT = 'switchforge-audio-worker';
export const POOL_COMPONENT = 'audio-worker';
export const METRICS_PORT = 9464;
/** When the scaler last changed replicas: kept on the object, so an operator restart keeps the cool-down. */
export const LAST_SCALE_ANNOTATION = 'switchforge.io/last-scale-time';

export interface PoolTarget {
  temporal: { address: string; namespace: string };
  queuePrefix: string;
  storageRoot: string;
}

/**
 * The audio worker pool's Deployment as the operator applies it: replicas and the pod template
 * only (plus the selector, which creation needs), so fields others own stay theirs.
 */
export function desiredPoolDeployment(
  pool: PoolConfig,
  target: PoolTarget,
  replicas: number,
  lastScaleTime: string | undefined,
): V1Deployment {
  const labels = {
    [LABEL_NAME]: 'switchforge',
    [LABEL_COMPONENT]: POOL_COMPONENT,
    [LABEL_MANAGED_BY]: MANAGER,
  };
  const env: V1EnvVar[] = [
    { name: 'TEMPORAL_ADDRESS', value: target.temporal.address },
    { name: 'TEMPORAL_NAMESPACE', value: target.temporal.namespace },
    { name: 'AUDIO_QUEUE_PREFIX', value: target.queuePrefix },
    { name: 'AUDIO_STORAGE_ROOT', value: target.storageRoot },
    { name: 'AUDIO_PYTHON', value: pool.pythonPath },
    { name: 'AUDIO_PYTHON_CWD', value: pool.pythonCwd },
    {
      name: 'SWITCHFORGE_DATABASE_URL',
      valueFrom: { secretKeyRef: { name: pool.databaseSecret.name, key: pool.databaseSecret.key } },
    },
    { name: 'SWITCHFORGE_METRICS_PORT', value: String(METRICS_PORT) },
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'OTEL_SERVICE_NAME', value: 'switchforge-audio-worker' },
    ...(pool.otlpEndpoint ? [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: pool.otlpEndpoint }] : []),
    ...(pool.modelRepo ? [{ name: 'AUDIO_MODEL_REPO', value: pool.modelRepo }] : []),
    ...Object.entries(pool.temporalTls?.env ?? {}).map(([name, value]) => ({ name, value })),
    ...Object.entries(pool.sourcePolicyEnv).map(([name, value]) => ({ name, value })),
    ...objectStorageEnv(pool),
  ];
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (pool.storageClaim) {
    volumes.push({ name: 'audio', persistentVolumeClaim: { claimName: pool.storageClaim } });
    mounts.push({ name: 'audio', mountPath: target.storageRoot });
  } else if (pool.objectStorage) {
    // Object storage: storageRoot is only where files are staged for Python.
    volumes.push({ name: 'audio', emptyDir: {} });
    mounts.push({ name: 'audio', mountPath: target.storageRoot });
  }
  // The root file system is read-only: Python and the worker write scratch files under /tmp only.
  volumes.push({ name: 'tmp', emptyDir: {} });
  mounts.push({ name: 'tmp', mountPath: '/tmp' });
  const tls = pool.temporalTls;
  if (tls) {
    // Mounted where the operator's copy is, so the same TEMPORAL_TLS_* paths hold in the workers.
    const files = Object.entries(tls.env).filter(([k]) => k.endsWith('_FILE'));
    const dirs = [...new Set(files.map(([, path]) => path.slice(0, path.lastIndexOf('/')) || '/'))];
    volumes.push({
      name: 'temporal-tls',
      secret: { secretName: tls.secretName, defaultMode: SECRET_FILE_MODE },
    });
    for (const dir of dirs) mounts.push({ name: 'temporal-tls', mountPath: dir, readOnly: true });
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: POOL_DEPLOYMENT,
      namespace: pool.namespace,
      labels,
      ...(lastScaleTime ? { annotations: { [LAST_SCALE_ANNOTATION]: lastScaleTime } } : {}),
    },
    spec: {
      replicas,
      selector: { matchLabels: { [LABEL_COMPONENT]: POOL_COMPONENT, [LABEL_MANAGED_BY]: MANAGER } },
      template: {
        metadata: {
          labels,
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT) },
        },
        spec: {
          // Running activities get this long to stop their Python children (the worker waits 10 s).
          terminationGracePeriodSeconds: 30,
          securityContext: {
            ...POD_SECURITY_CONTEXT,
            seccompProfile: { ...POD_SECURITY_CONTEXT.seccompProfile },
          },
          containers: [
            {
              name: 'worker',
              image: pool.image,
              imagePullPolicy: pool.imagePullPolicy,
              command: pool.command,
              workingDir: pool.workingDir,
              env,
              ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
              resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '4Gi' } },
              volumeMounts: mounts,
              securityContext: {
                ...CONTAINER_SECURITY_CONTEXT,
                capabilities: { drop: [...CONTAINER_SECURITY_CONTEXT.capabilities.drop] },
              },
            },
          ],
          volumes,
        },
      },
    },
  };
}

/** The bucket's settings as values, its credentials from the Secret (never in the Deployment). */
function objectStorageEnv(pool: PoolConfig): V1EnvVar[] {
  const o = pool.objectStorage;
  if (!o) return [];
  const secret = (key: string) => ({ secretKeyRef: { name: o.credentialsSecret.name, key } });
  return [
    ...Object.entries(o.env).map(([name, value]) => ({ name, value })),
    { name: STORE_ENV.accessKeyId, valueFrom: secret(o.credentialsSecret.accessKeyIdKey) },
    { name: STORE_ENV.secretAccessKey, valueFrom: secret(o.credentialsSecret.secretAccessKeyKey) },
  ];
}
