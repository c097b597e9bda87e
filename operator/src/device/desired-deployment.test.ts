import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Device } from '@switchforge/platform/crd';
import {
  EXPECTED_RATE_ANNOTATION,
  mebibytes,
  parseQuantityBytes,
  workerMemoryPlan,
  workerNodeOptions,
} from '@switchforge/platform/worker-memory';
import { avoidedNodes, desiredDeployment, type WorkerSettings } from './desired-deployment.js';

const device: Device = {
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

describe("the worker's memory follows what its Device asks for", () => {
  const envOf = (d: ReturnType<typeof desiredDeployment>) =>
    new Map((d.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
  const resourcesOf = (d: ReturnType<typeof desiredDeployment>) =>
    d.spec?.template.spec?.containers[0]?.resources;
  const asking = (rate: number): Device => ({
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
