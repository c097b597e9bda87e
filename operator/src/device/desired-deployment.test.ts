import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResolvedDevice } from '@switchforge/platform/crd';
import fc from 'fast-check';
import { SECRET_MOUNTS, deviceLeaseName } from '@switchforge/platform/device-worker';
import {
  avoidedNodes,
  desiredDeployment,
  workerResources,
  type WorkerSettings,
} from './desired-deployment.js';
import {
  EXPECTED_RATE_ANNOTATION,
  mebibytes,
  parseQuantityBytes,
  workerMemoryPlan,
  workerNodeOptions,
} from '@switchforge/platform/worker-memory';

const device: ResolvedDevice = {
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { name: 'leaf1', namespace: 'lab', uid: '0b0e6c1e-3f0a-4f7e-9d3c-1a2b3c4d5e6f' },
  spec: { address: '192.0.2.10', protocol: 'gnmi', credentials: { secretRef: { name: 'leaf1-login' } } },
};

const settings: WorkerSettings = {
  image: 'switchforge/worker:test',
  command: ['node', 'worker/dist/main.js'],
  workingDir: '/app',
  imagePullPolicy: 'IfNotPresent',
  defaultResources: { requests: { cpu: '50m' }, limits: {} },
  leaseDurationSeconds: 8,
};

describe('the worker Deployment around a lost node', () => {
  test('without avoided nodes the pod may go anywhere and a rollout keeps the old pod until the new one is up', () => {
    const d = desiredDeployment(device, settings);
    assert.equal(d.spec?.template.spec?.affinity, undefined);
    assert.deepEqual(d.spec?.strategy?.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    assert.deepEqual(avoidedNodes(d), []);
  });

  test('avoided nodes become a required NotIn on the node name, in a stable order', () => {
    const d = desiredDeployment(device, settings, ['kwok-node-2', 'kwok-node-0']);
    assert.deepEqual(
      d.spec?.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
      {
        nodeSelectorTerms: [
          {
            matchFields: [
              { key: 'metadata.name', operator: 'NotIn', values: ['kwok-node-0', 'kwok-node-2'] },
            ],
          },
        ],
      },
    );
    assert.deepEqual(
      avoidedNodes(d),
      ['kwok-node-0', 'kwok-node-2'],
      'read back from the applied Deployment',
    );
    assert.deepEqual(
      desiredDeployment(device, settings, ['kwok-node-0', 'kwok-node-2']),
      d,
      'the same nodes in another order give the same Deployment, so no needless rollout',
    );
  });

  test('while nodes are avoided the old ReplicaSet may go to zero at once, so it cannot recreate the evicted pod', () => {
    const d = desiredDeployment(device, settings, ['kwok-node-1']);
    assert.deepEqual(d.spec?.strategy?.rollingUpdate, { maxSurge: 1, maxUnavailable: 1 });
  });

  test('a Deployment another writer gave other node terms yields no avoided nodes', () => {
    const d = desiredDeployment(device, settings);
    d.spec!.template.spec!.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
        },
      },
    };
    assert.deepEqual(avoidedNodes(d), []);
    assert.deepEqual(avoidedNodes(undefined), []);
  });
});

describe('names, labels, Secrets and resources of the worker Deployment', () => {
  // What the apiserver demands of what we derive (apimachinery's validation).
  const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
  const segment = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
  /** Every Device name the CRD admits: a DNS subdomain of at most 63 characters. */
  const deviceName = fc
    .array(segment, { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join('.'))
    .filter((n) => n.length <= 63);

  test('every Device name the CRD admits yields a valid Deployment name, Lease name and label values', () => {
    fc.assert(
      fc.property(deviceName, (name) => {
        const d = desiredDeployment({ ...device, metadata: { ...device.metadata, name } }, settings);
        const names = [d.metadata!.name!, deviceLeaseName(name)];
        for (const n of names) assert.ok(n.length <= 63 && DNS_SUBDOMAIN.test(n), n);
        const labels = {
          ...d.metadata!.labels,
          ...d.spec!.template.metadata!.labels,
          ...d.spec!.selector.matchLabels,
        };
        for (const v of Object.values(labels)) assert.ok(v.length <= 63 && LABEL_VALUE.test(v), v);
      }),
      { seed: 1313, numRuns: 500 },
    );
  });

  test('Secret volumes are optional, so that a missing Secret reaches the worker, which names it', () => {
    const d = desiredDeployment(device, settings);
    assert.deepEqual(
      d.spec!.template.spec!.volumes!.map((v) => [v.name, v.secret?.secretName, v.secret?.optional]),
      [['credentials', 'leaf1-login', true]],
    );
  });

  test('a request above a default limit raises that limit; the Device’s own limits stay', () => {
    const cases: [NonNullable<ResolvedDevice['spec']['resources']>, { requests: object; limits: object }][] =
      [
        [{}, { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } }],
        [
          { requests: { memory: '1Gi' } },
          { requests: { cpu: '50m', memory: '1Gi' }, limits: { memory: '1Gi' } },
        ],
        [
          { requests: { memory: '256Mi' } },
          { requests: { cpu: '50m', memory: '256Mi' }, limits: { memory: '512Mi' } },
        ],
        [
          { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } },
          { requests: { cpu: '50m', memory: '1Gi' }, limits: { memory: '2Gi' } },
        ],
        [{ requests: { cpu: 2 } }, { requests: { cpu: '2', memory: '128Mi' }, limits: { memory: '512Mi' } }],
      ];
    // Defaults as the memory plan gives them to workerResources for a quiet switch.
    const defaults = { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } };
    for (const [own, want] of cases) assert.deepEqual(workerResources(defaults, own), want);
  });
});

describe("the worker's memory follows what its Device asks for", () => {
  const envOf = (d: ReturnType<typeof desiredDeployment>) =>
    new Map((d.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
  const resourcesOf = (d: ReturnType<typeof desiredDeployment>) =>
    d.spec?.template.spec?.containers[0]?.resources;
  const asking = (rate: number): ResolvedDevice => ({
    ...device,
    metadata: { ...device.metadata, annotations: { [EXPECTED_RATE_ANNOTATION]: String(rate) } },
  });

  test('V8 flags, memory request and limit and buffer sizes come from one plan', () => {
    const d = desiredDeployment(asking(2000), settings);
    const plan = workerMemoryPlan(2000);
    const env = envOf(d);
    assert.equal(env.get('NODE_OPTIONS'), workerNodeOptions(plan));
    assert.equal(env.get('SWITCHFORGE_MEMORY_LIMIT_BYTES'), String(plan.limitBytes));
    assert.equal(env.get('SWITCHFORGE_MAX_BUFFERED_SAMPLES'), String(plan.maxBufferedSamples));
    assert.equal(env.get('SWITCHFORGE_LIVE_RING_BYTES'), String(plan.liveRingBytes));
    assert.deepEqual(resourcesOf(d), {
      requests: { cpu: '50m', memory: mebibytes(plan.requestBytes) },
      limits: { memory: mebibytes(plan.limitBytes) },
    });
  });

  test('a busier Device gets a larger young generation and limit', () => {
    const quiet = desiredDeployment(asking(2000), settings);
    const busy = desiredDeployment(asking(100_000), settings);
    assert.match(envOf(busy).get('NODE_OPTIONS')!, /--max-semi-space-size=16 /);
    assert.match(envOf(quiet).get('NODE_OPTIONS')!, /--max-semi-space-size=1 /);
    assert.ok(
      parseQuantityBytes(resourcesOf(busy)?.limits?.memory)! >
        parseQuantityBytes(resourcesOf(quiet)?.limits?.memory)!,
    );
  });

  test("the Device's own memory limit wins, and the plan fits inside it", () => {
    const d = desiredDeployment(
      { ...asking(100_000), spec: { ...device.spec, resources: { limits: { memory: '160Mi' } } } },
      settings,
    );
    assert.equal(resourcesOf(d)?.limits?.memory, '160Mi');
    assert.equal(envOf(d).get('SWITCHFORGE_MEMORY_LIMIT_BYTES'), String(160 * 2 ** 20));
  });
});

describe('where the worker may run', () => {
  test('the configured node selector and tolerations join the operator’s own lost-node tolerations', () => {
    const d = desiredDeployment(device, {
      ...settings,
      nodeSelector: { 'switchforge.io/collectors': 'true' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'collectors', effect: 'NoSchedule' }],
    });
    const pod = d.spec!.template.spec!;
    assert.deepEqual(pod.nodeSelector, { 'switchforge.io/collectors': 'true' });
    assert.deepEqual(
      pod.tolerations?.map((t) => t.key),
      ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable', 'dedicated'],
    );
  });

  test('without them the pod carries no node selector', () => {
    const pod = desiredDeployment(device, { ...settings, nodeSelector: {} }).spec!.template.spec!;
    assert.equal(pod.nodeSelector, undefined);
    assert.equal(pod.tolerations?.length, 2);
  });
});

describe('the worker Deployment of a Device with outputs', () => {
  const withOutputs = (outputs: ResolvedDevice['spec']['outputs']): ResolvedDevice => ({
    ...device,
    spec: { ...device.spec, outputs },
  });
  const container = (d: ReturnType<typeof desiredDeployment>) => d.spec!.template.spec!.containers[0]!;

  test('a Prometheus output gets the named container port device-metrics and annotations naming it', () => {
    const d = desiredDeployment(withOutputs({ prometheus: {} }), settings);
    assert.deepEqual(
      container(d).ports?.find((p) => p.name === 'device-metrics'),
      { name: 'device-metrics', containerPort: 9804 },
    );
    assert.equal(d.spec?.template.metadata?.annotations?.['switchforge.io/device-metrics-port'], '9804');
    assert.equal(d.spec?.template.metadata?.annotations?.['switchforge.io/device-metrics-path'], '/metrics');
    // The worker's own metrics keep the prometheus.io annotations.
    assert.equal(d.spec?.template.metadata?.annotations?.['prometheus.io/port'], '9464');
  });

  test('its own port when set; none when disabled, or with only an OTLP output (which applies in place)', () => {
    const port = (outputs: ResolvedDevice['spec']['outputs']) =>
      container(desiredDeployment(withOutputs(outputs), settings)).ports?.find(
        (p) => p.name === 'device-metrics',
      )?.containerPort;
    assert.equal(port({ prometheus: { port: 9273 } }), 9273);
    assert.equal(port({ prometheus: { enabled: false, port: 9273 } }), undefined);
    assert.equal(port({ otlp: { endpoint: 'http://collector:4318' } }), undefined);
    assert.deepEqual(
      desiredDeployment(withOutputs({ otlp: { endpoint: 'http://collector:4318' } }), settings).spec
        ?.template,
      desiredDeployment(device, settings).spec?.template,
    );
  });

  test("an OTLP receiver's CA Secret is mounted read-only where the worker reads it", () => {
    const spec = withOutputs({
      otlp: { endpoint: 'https://collector:4318', tls: { caSecretRef: { name: 'collector-ca' } } },
    });
    const pod = desiredDeployment(spec, settings).spec!.template.spec!;
    assert.deepEqual(pod.volumes!.find((v) => v.name === 'otlp-ca')?.secret, {
      secretName: 'collector-ca',
      defaultMode: 0o440,
      optional: true,
    });
    const mount = container(desiredDeployment(spec, settings)).volumeMounts?.find(
      (m) => m.name === 'otlp-ca',
    );
    assert.deepEqual([mount?.mountPath, mount?.readOnly], [SECRET_MOUNTS.otlpCa, true]);
  });
});
