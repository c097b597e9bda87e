import type { V1Deployment, V1EnvVar, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import {
  API_VERSION,
  DEVICE,
  prometheusOutputPort,
  type Device,
  type ResolvedDevice,
} from '@switchforge/platform/crd';
import {
  LABEL_COMPONENT,
  LABEL_DEVICE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  MANAGER,
  WORKER_DATABASE_SECRET,
  WORKER_SERVICE_ACCOUNT,
  LIVE_PORT,
  SECRET_MOUNTS,
  workerDeploymentName,
  deviceLeaseName,
} from '@switchforge/platform/device-worker';
import { quantityValue } from '@switchforge/platform/quantity';
import {
  CONTAINER_SECURITY_CONTEXT,
  POD_SECURITY_CONTEXT,
  SECRET_FILE_MODE,
} from '@switchforge/platform/image-layout';
import {
  expectedUpdatesPerSecond,
  mebibytes,
  parseQuantityBytes,
  WORKER_MEMORY_ENV,
  workerMemoryPlan,
  workerNodeOptions,
} from '@switchforge/platform/worker-memory';

export interface WorkerSettings {
  image: string;
  /** The container command; the e2e pod runner runs it as a local process. */
  command: string[];
  workingDir: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  defaultResources: { requests: Record<string, string>; limits: Record<string, string> };
  otlpEndpoint?: string;
  leaseDurationSeconds: number;
  extraEnv?: V1EnvVar[];
  /** Where workers may run: added to the operator's own affinity and tolerations. */
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
}

export const HEALTH_PORT = 8080;
export const METRICS_PORT = 9464;
/** The named container port of a Device's Prometheus output (spec.outputs.prometheus). */
export const DEVICE_METRICS_PORT_NAME = 'device-metrics';
/**
 * Pod annotations naming the Prometheus output's port and path. `prometheus.io/port` stays the
 * worker's own metrics (one port per pod in that convention); a scrape job for device telemetry
 * keeps pods by these, or by the container port name (README: "Device telemetry as metrics").
 */
export const DEVICE_METRICS_ANNOTATION = {
  port: 'switchforge.io/device-metrics-port',
  path: 'switchforge.io/device-metrics-path',
} as const;

export function workerLabels(device: Device): Record<string, string> {
  return {
    [LABEL_NAME]: 'switchforge',
    [LABEL_COMPONENT]: 'device-worker',
    [LABEL_MANAGED_BY]: MANAGER,
    [LABEL_DEVICE]: device.metadata.name!,
  };
}

/**
 * The nodes a worker template keeps its pods off (see `avoidNodes` of desiredDeployment), read
 * back from an applied Deployment.
 */
export function avoidedNodes(deployment: V1Deployment | undefined): string[] {
  const terms =
    deployment?.spec?.template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms ?? [];
  return terms.flatMap((t) =>
    (t.matchFields ?? []).flatMap((f) =>
      f.key === 'metadata.name' && f.operator === 'NotIn' ? (f.values ?? []) : [],
    ),
  );
}

/**
 * The worker Deployment a Device should have: one replica, owned by the Device, with the
 * Device's Secrets mounted read-only. `device.spec` is the merged one (the Device's own over its
 * profile's, `effectiveDeviceSpec`). Subscriptions are not in the pod template: the worker
 * watches its Device and changes subscriptions in place, so a subscription edit restarts
 * nothing and the unchanged ones keep streaming. Only what needs a new session (address,
 * protocol, Secrets, resources) rolls the pod.
 *
 * `avoidNodes` are nodes the replacement of an evicted worker must not land on: until the node
 * controller taints a lost node (tens of seconds), the scheduler still sees it Ready, and with the
 * fewest pods it is the first choice for the replacement.
 */
export function desiredDeployment(
  device: ResolvedDevice,
  settings: WorkerSettings,
  avoidNodes: readonly string[] = [],
): V1Deployment {
  const name = device.metadata.name!;
  const namespace = device.metadata.namespace!;
  const spec = device.spec;
  const labels = workerLabels(device);
  const plan = workerMemoryPlan(
    expectedUpdatesPerSecond(spec, device.metadata.annotations ?? {}),
    parseQuantityBytes(spec.resources?.limits?.memory),
  );
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  // Optional: a missing Secret would hold the pod in ContainerCreating with the cause only in a
  // kubelet Event; started, the worker names the Secret and key in the Device's status instead.
  const secretVolume = (volume: string, secretName: string, mountPath: string) => {
    volumes.push({ name: volume, secret: { secretName, defaultMode: SECRET_FILE_MODE, optional: true } });
    mounts.push({ name: volume, mountPath, readOnly: true });
  };
  secretVolume('credentials', spec.credentials.secretRef.name, SECRET_MOUNTS.credentials);
  if (spec.tls?.caSecretRef) secretVolume('tls-ca', spec.tls.caSecretRef.name, SECRET_MOUNTS.tlsCa);
  if (spec.tls?.clientCertSecretRef) {
    secretVolume('tls-client', spec.tls.clientCertSecretRef.name, SECRET_MOUNTS.tlsClient);
  }
  if (spec.ssh?.hostKeySecretRef)
    secretVolume('ssh-host-key', spec.ssh.hostKeySecretRef.name, SECRET_MOUNTS.sshHostKey);
  const otlpCa = spec.outputs?.otlp?.tls?.caSecretRef;
  if (otlpCa) secretVolume('otlp-ca', otlpCa.name, SECRET_MOUNTS.otlpCa);

  const fieldEnv = (envName: string, fieldPath: string): V1EnvVar => ({
    name: envName,
    valueFrom: { fieldRef: { fieldPath } },
  });
  const env: V1EnvVar[] = [
    { name: 'SWITCHFORGE_DEVICE_NAME', value: name },
    fieldEnv('SWITCHFORGE_DEVICE_NAMESPACE', 'metadata.namespace'),
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_UID', 'metadata.uid'),
    fieldEnv('NODE_NAME', 'spec.nodeName'),
    fieldEnv('POD_IP', 'status.podIP'),
    { name: 'SWITCHFORGE_LEASE_NAME', value: deviceLeaseName(name) },
    { name: 'SWITCHFORGE_LEASE_DURATION_SECONDS', value: String(settings.leaseDurationSeconds) },
    { name: 'SWITCHFORGE_HEALTH_PORT', value: String(HEALTH_PORT) },
    { name: 'SWITCHFORGE_METRICS_PORT', value: String(METRICS_PORT) },
    { name: 'SWITCHFORGE_LIVE_PORT', value: String(LIVE_PORT) },
    {
      name: 'SWITCHFORGE_DATABASE_URL',
      valueFrom: { secretKeyRef: { name: WORKER_DATABASE_SECRET, key: 'url' } },
    },
    { name: 'OTEL_SERVICE_NAME', value: 'switchforge-device-worker' },
    {
      name: 'OTEL_RESOURCE_ATTRIBUTES',
      value: `k8s.pod.name=$(POD_NAME),k8s.pod.uid=$(POD_UID),k8s.namespace.name=$(SWITCHFORGE_DEVICE_NAMESPACE),k8s.node.name=$(NODE_NAME),switchforge.device=${name}`,
    },
    ...(settings.otlpEndpoint ? [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: settings.otlpEndpoint }] : []),
    // Memory follows what the Device asks for: the same plan sizes the container, V8 and the
    // worker's buffers, so the worker sheds load before the kernel would kill it.
    { name: 'NODE_OPTIONS', value: workerNodeOptions(plan) },
    { name: WORKER_MEMORY_ENV.limitBytes, value: String(plan.limitBytes) },
    { name: WORKER_MEMORY_ENV.maxBufferedSamples, value: String(plan.maxBufferedSamples) },
    { name: WORKER_MEMORY_ENV.liveRingBytes, value: String(plan.liveRingBytes) },
    ...(settings.extraEnv ?? []),
  ];
  // The memory plan sets the defaults; the Device's own requests and limits win over them.
  const resources = workerResources(
    {
      requests: { ...settings.defaultResources.requests, memory: mebibytes(plan.requestBytes) },
      limits: { ...settings.defaultResources.limits, memory: mebibytes(plan.limitBytes) },
    },
    spec.resources,
  );

  // The Prometheus output changes the pod template (a port): turning it on or off rolls the pod.
  // The OTLP output and the naming settings apply in place (the worker watches its Device).
  const deviceMetricsPort = prometheusOutputPort(spec);
  const annotations: Record<string, string> = {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(METRICS_PORT),
    ...(deviceMetricsPort === undefined
      ? {}
      : {
          [DEVICE_METRICS_ANNOTATION.port]: String(deviceMetricsPort),
          [DEVICE_METRICS_ANNOTATION.path]: '/metrics',
        }),
  };

  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: workerDeploymentName(name),
      namespace,
      labels,
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: DEVICE.kind,
          name,
          uid: device.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { [LABEL_DEVICE]: name, [LABEL_COMPONENT]: 'device-worker' } },
      // The per-device Lease, not the Deployment, guarantees one collector: a surge pod waits for
      // the old one to release the Lease on SIGTERM, which keeps the hand-over gap short. While
      // nodes are avoided (an eviction), the old ReplicaSet must go to zero at once instead: kept
      // at one until the new pod is available, it recreates the evicted pod without the exclusion,
      // back on the lost node.
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: 1, maxUnavailable: avoidNodes.length > 0 ? 1 : 0 },
      },
      revisionHistoryLimit: 2,
      template: {
        metadata: {
          labels,
          annotations,
        },
        spec: {
          serviceAccountName: WORKER_SERVICE_ACCOUNT,
          automountServiceAccountToken: true,
          terminationGracePeriodSeconds: 30,
          securityContext: {
            ...POD_SECURITY_CONTEXT,
            seccompProfile: { ...POD_SECURITY_CONTEXT.seccompProfile },
          },
          ...(avoidNodes.length > 0
            ? {
                affinity: {
                  nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                      nodeSelectorTerms: [
                        {
                          matchFields: [
                            { key: 'metadata.name', operator: 'NotIn', values: [...avoidNodes].sort() },
                          ],
                        },
                      ],
                    },
                  },
                },
              }
            : {}),
          // Leave a lost node quickly; the operator's Lease check evicts even sooner.
          tolerations: [
            {
              key: 'node.kubernetes.io/not-ready',
              operator: 'Exists',
              effect: 'NoExecute',
              tolerationSeconds: 10,
            },
            {
              key: 'node.kubernetes.io/unreachable',
              operator: 'Exists',
              effect: 'NoExecute',
              tolerationSeconds: 10,
            },
            ...(settings.tolerations ?? []),
          ],
          ...(settings.nodeSelector && Object.keys(settings.nodeSelector).length > 0
            ? { nodeSelector: settings.nodeSelector }
            : {}),
          containers: [
            {
              name: 'worker',
              image: settings.image,
              imagePullPolicy: settings.imagePullPolicy,
              // A worker that dies before it can report shows its last log lines on the Device.
              terminationMessagePolicy: 'FallbackToLogsOnError',
              command: settings.command,
              workingDir: settings.workingDir,
              env,
              ports: [
                { name: 'health', containerPort: HEALTH_PORT },
                { name: 'metrics', containerPort: METRICS_PORT },
                { name: 'live', containerPort: LIVE_PORT },
                ...(deviceMetricsPort === undefined
                  ? []
                  : [{ name: DEVICE_METRICS_PORT_NAME, containerPort: deviceMetricsPort }]),
              ],
              resources,
              volumeMounts: mounts,
              livenessProbe: {
                httpGet: { path: '/healthz', port: HEALTH_PORT },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              readinessProbe: { httpGet: { path: '/readyz', port: HEALTH_PORT }, periodSeconds: 5 },
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

/**
 * The Device's resources over the operator's defaults. A request above a default limit the Device
 * does not override raises that limit to the request: the schema checks the Device's own
 * requests against its own limits only, and the apiserver refuses a request above its limit.
 */
export function workerResources(
  defaults: WorkerSettings['defaultResources'],
  own: Device['spec']['resources'],
): { requests: Record<string, string>; limits: Record<string, string> } {
  const requests = { ...defaults.requests, ...stringify(own?.requests) };
  const limits = { ...defaults.limits, ...stringify(own?.limits) };
  for (const [name, request] of Object.entries(stringify(own?.requests))) {
    if (own?.limits?.[name] !== undefined || limits[name] === undefined) continue;
    const r = quantityValue(request);
    const l = quantityValue(limits[name]);
    if (r !== undefined && l !== undefined && r > l) limits[name] = request;
  }
  return { requests, limits };
}

function stringify(list: Record<string, string | number> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(list ?? {}).map(([k, v]) => [k, String(v)]));
}
