/**
 * The Device reconciler against listers and recorded writes (cert-manager's controller tests):
 * what one reconcile applies, evicts, writes to status and records as Events, and when it asks
 * to look again, for each state of the worker's Lease and its node.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ApiException,
  type KubernetesObject,
  type V1Deployment,
  type V1Lease,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Device } from '@switchforge/platform/crd';
import { LABEL_DEVICE, deviceLeaseName, workerDeploymentName } from '@switchforge/platform/device-worker';
import { listerOf } from '@switchforge/platform/kube';
import { avoidedNodes, type WorkerSettings } from './desired-deployment.js';
import { DeviceReconciler, nodeHeartbeatMissed, type DeviceClients } from './device-reconciler.js';

const NOW = new Date('2026-12-03T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

const device: Device = {
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { name: 'leaf1', namespace: 'lab', uid: 'uid-leaf1', generation: 1 },
  spec: { address: '127.0.0.1', protocol: 'gnmi', credentials: { secretRef: { name: 'leaf1-login' } } },
};

const settings: WorkerSettings = {
  image: 'switchforge/worker:test',
  command: ['node', '/app/worker/dist/main.js', 'device'],
  workingDir: '/app',
  imagePullPolicy: 'IfNotPresent',
  defaultResources: { requests: { cpu: '50m' }, limits: {} },
  leaseDurationSeconds: 8,
};

function workerLease(renewedSecondsAgo: number, holder = 'leaf1-worker-abc'): V1Lease {
  return {
    metadata: { name: deviceLeaseName('leaf1'), namespace: 'lab', labels: { [LABEL_DEVICE]: 'leaf1' } },
    spec: {
      holderIdentity: holder,
      renewTime: ago(renewedSecondsAgo) as unknown as Date,
      leaseDurationSeconds: 8,
    },
  };
}

function workerPod(name: string, nodeName: string, deleting = false): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'lab',
      labels: { [LABEL_DEVICE]: 'leaf1' },
      ...(deleting ? { deletionTimestamp: new Date(ago(5)) } : {}),
    },
    spec: { nodeName, containers: [] },
  };
}

function node(name: string, ready: boolean): V1Node {
  return {
    metadata: { name },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function nodeLease(name: string, renewedSecondsAgo: number): V1Lease {
  return {
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { renewTime: ago(renewedSecondsAgo) as unknown as Date, leaseDurationSeconds: 40 },
  };
}

interface World {
  devices?: Device[];
  deployments?: V1Deployment[];
  leases?: V1Lease[];
  pods?: V1Pod[];
  nodes?: V1Node[];
  nodeLeases?: V1Lease[];
  /** The apiserver's answer to the Deployment apply. */
  applyError?: unknown;
}

interface Writes {
  applied: V1Deployment[];
  statuses: unknown[];
  deletedPods: Array<{ name: string; gracePeriodSeconds?: number }>;
  events: Array<{ reason: string; type: string }>;
  namespaces: string[];
}

function reconcilerFor(world: World): { reconciler: DeviceReconciler; writes: Writes } {
  const writes: Writes = { applied: [], statuses: [], deletedPods: [], events: [], namespaces: [] };
  const clients = {
    objects: {
      patch: async (spec: KubernetesObject) => {
        if (world.applyError) throw world.applyError;
        writes.applied.push(spec as V1Deployment);
        return spec;
      },
    },
    customObjects: {
      patchNamespacedCustomObjectStatus: async (params: { body: unknown }) => {
        writes.statuses.push(params.body);
        return {};
      },
    },
    core: {
      deleteNamespacedPod: async (params: { name: string; gracePeriodSeconds?: number }) => {
        writes.deletedPods.push({
          name: params.name,
          ...(params.gracePeriodSeconds === undefined
            ? {}
            : { gracePeriodSeconds: params.gracePeriodSeconds }),
        });
        return {};
      },
      createNamespacedEvent: async (params: { body: { reason?: string; type?: string } }) => {
        writes.events.push({ reason: params.body.reason ?? '', type: params.body.type ?? '' });
        return {};
      },
    },
  } as unknown as DeviceClients;
  const reconciler = new DeviceReconciler(
    {
      devices: listerOf(world.devices ?? [device]),
      deployments: listerOf(world.deployments ?? []),
      leases: listerOf(world.leases ?? []),
      pods: listerOf(world.pods ?? []),
      nodes: listerOf(world.nodes ?? []),
      nodeLeases: listerOf(world.nodeLeases ?? []),
    },
    clients,
    settings,
    { ensure: async (ns) => void writes.namespaces.push(ns) },
    () => NOW,
  );
  return { reconciler, writes };
}

describe('reconciling a Device', () => {
  test('a new Device gets its namespace set up, its worker Deployment applied and a status', async () => {
    const { reconciler, writes } = reconcilerFor({});
    const result = await reconciler.reconcile('lab/leaf1');
    assert.deepEqual(writes.namespaces, ['lab']);
    assert.equal(writes.applied.length, 1);
    assert.equal(writes.applied[0]!.metadata?.name, workerDeploymentName('leaf1'));
    assert.equal(writes.statuses.length, 1, 'the first status is written');
    assert.deepEqual(result, { requeueAfterMs: 30_000 }, 'no lease to wait for: the slow resync');
  });

  test('an unchanged Device is not re-applied: the cached Deployment carries the same spec hash', async () => {
    const first = reconcilerFor({});
    await first.reconciler.reconcile('lab/leaf1');
    const applied = first.writes.applied[0]!;
    const { reconciler, writes } = reconcilerFor({ deployments: [applied] });
    await reconciler.reconcile('lab/leaf1');
    assert.equal(writes.applied.length, 0);
  });

  test('a Device that is gone or being deleted is left to the garbage collector', async () => {
    for (const devices of [
      [],
      [{ ...device, metadata: { ...device.metadata, deletionTimestamp: new Date(NOW) } }],
    ]) {
      const { reconciler, writes } = reconcilerFor({ devices });
      assert.equal(await reconciler.reconcile('lab/leaf1'), undefined);
      assert.deepEqual([writes.applied.length, writes.statuses.length, writes.namespaces.length], [0, 0, 0]);
    }
  });

  test('the apiserver refusing the Deployment becomes WorkerRejected with its message, an Event and a slow retry', async () => {
    const refusal = new ApiException(
      422,
      'Unprocessable Entity',
      JSON.stringify({
        message: 'Deployment.apps "leaf1-worker" is invalid: metadata.labels: Invalid value',
      }),
      {},
    );
    const { reconciler, writes } = reconcilerFor({ applyError: refusal });
    const result = await reconciler.reconcile('lab/leaf1');
    assert.deepEqual(result, { requeueAfterMs: 60_000 });
    const status = writes.statuses[0] as {
      status: { conditions: Array<{ reason: string; message: string }> };
    };
    const connected = status.status.conditions.find((c) => c.reason === 'WorkerRejected');
    assert.ok(connected, JSON.stringify(status));
    assert.match(connected.message, /HTTP 422\): Deployment\.apps "leaf1-worker" is invalid/);
    assert.ok(
      writes.events.some((e) => e.type === 'Warning'),
      JSON.stringify(writes.events),
    );
  });

  test('an apply failure worth a plain retry (a conflict, the apiserver down) is thrown to the work queue', async () => {
    const { reconciler } = reconcilerFor({ applyError: new ApiException(409, 'Conflict', '{}', {}) });
    await assert.rejects(reconciler.reconcile('lab/leaf1'), ApiException);
  });
});

describe('when to look again, and a worker stranded on a lost node', () => {
  const healthy = [node('n1', true), node('n2', true)];
  const heartbeats = [nodeLease('n1', 2), nodeLease('n2', 2)];

  // Each case: the world around one Device, and what the reconcile must do.
  const cases: Array<{
    name: string;
    world: World;
    requeueAfterMs: number;
    evicted: string[];
    avoided: string[];
  }> = [
    {
      name: 'a held lease: just after it would expire (no event fires when a lease lapses)',
      world: {
        leases: [workerLease(2)],
        pods: [workerPod('p1', 'n1')],
        nodes: healthy,
        nodeLeases: heartbeats,
      },
      requeueAfterMs: 6_500,
      evicted: [],
      avoided: [],
    },
    {
      name: 'a lapsed lease on a healthy node: soon, and nothing evicted',
      world: {
        leases: [workerLease(10)],
        pods: [workerPod('p1', 'n1')],
        nodes: healthy,
        nodeLeases: heartbeats,
      },
      requeueAfterMs: 1_000,
      evicted: [],
      avoided: [],
    },
    {
      name: 'a lease lapsed long ago on a healthy node: the slow resync',
      world: {
        leases: [workerLease(300)],
        pods: [workerPod('p1', 'n1')],
        nodes: healthy,
        nodeLeases: heartbeats,
      },
      requeueAfterMs: 30_000,
      evicted: [],
      avoided: [],
    },
    {
      name: 'a lapsed lease on a NotReady node: the template avoids it, soon again',
      world: {
        leases: [workerLease(10)],
        pods: [workerPod('p1', 'n1')],
        nodes: [node('n1', false), node('n2', true)],
        nodeLeases: heartbeats,
      },
      requeueAfterMs: 1_000,
      evicted: [],
      avoided: ['n1'],
    },
    {
      name: 'a node whose kubelet missed its heartbeats is lost although still Ready',
      world: {
        leases: [workerLease(10)],
        pods: [workerPod('p1', 'n1')],
        nodes: healthy,
        nodeLeases: [nodeLease('n1', 30), nodeLease('n2', 2)],
      },
      requeueAfterMs: 1_000,
      evicted: [],
      avoided: ['n1'],
    },
    {
      name: 'a stranded pod already being deleted is removed at once (no kubelet will finish it)',
      world: {
        leases: [workerLease(10)],
        pods: [workerPod('p1', 'n1', true), workerPod('p2', 'n2')],
        nodes: [node('n1', false), node('n2', true)],
        nodeLeases: heartbeats,
      },
      requeueAfterMs: 1_000,
      evicted: ['p1'],
      avoided: ['n1'],
    },
    {
      name: 'a held lease: a lost node elsewhere is not this Device’s business',
      world: {
        leases: [workerLease(2)],
        pods: [workerPod('p1', 'n2')],
        nodes: [node('n1', false), node('n2', true)],
        nodeLeases: heartbeats,
      },
      requeueAfterMs: 6_500,
      evicted: [],
      avoided: [],
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const { reconciler, writes } = reconcilerFor(c.world);
      const result = await reconciler.reconcile('lab/leaf1');
      assert.deepEqual(result, { requeueAfterMs: c.requeueAfterMs });
      assert.deepEqual(
        writes.deletedPods,
        c.evicted.map((name) => ({ name, gracePeriodSeconds: 0 })),
      );
      assert.deepEqual(avoidedNodes(writes.applied[0]), c.avoided);
    });
  }

  test('a node once avoided stays avoided while it is still lost, and is dropped only with a template change', async () => {
    const first = reconcilerFor({
      leases: [workerLease(10)],
      pods: [workerPod('p1', 'n1')],
      nodes: [node('n1', false), node('n2', true)],
      nodeLeases: heartbeats,
    });
    await first.reconciler.reconcile('lab/leaf1');
    const avoiding = first.writes.applied[0]!;
    // The replacement runs on n2 and holds the lease; n1 is still down: nothing to re-apply.
    const second = reconcilerFor({
      deployments: [avoiding],
      leases: [workerLease(1, 'leaf1-worker-new')],
      pods: [workerPod('p2', 'n2')],
      nodes: [node('n1', false), node('n2', true)],
      nodeLeases: heartbeats,
    });
    await second.reconciler.reconcile('lab/leaf1');
    assert.equal(second.writes.applied.length, 0, 'the avoiding template is kept, not re-applied');
  });

  test('a node lease renewed within 60 % of its duration is a live heartbeat', () => {
    assert.equal(nodeHeartbeatMissed(nodeLease('n1', 23), NOW), false);
    assert.equal(nodeHeartbeatMissed(nodeLease('n1', 25), NOW), true);
    assert.equal(nodeHeartbeatMissed(undefined, NOW), true);
  });
});
