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
import type { Device, DeviceProfile } from '@switchforge/platform/crd';
import {
  ANNOTATION,
  LABEL_DEVICE,
  deviceLeaseName,
  workerDeploymentName,
} from '@switchforge/platform/device-worker';
import { listerOf } from '@switchforge/platform/kube';
import { avoidedNodes, type WorkerSettings } from './desired-deployment.js';
import { DeviceReconciler, nodeHeartbeatMissed, type DeviceClients } from './device-reconciler.js';
import { ProfileRollouts } from './profile-rollout.js';

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
  profiles?: DeviceProfile[];
  /** The profile cache has not listed yet. */
  profilesUnsynced?: boolean;
  /** The apiserver's answer to the Deployment apply. */
  applyError?: unknown;
  /** The rollout gate profile edits pass (shared across reconcilers, as in the operator). */
  rollouts?: ProfileRollouts;
}

interface Writes {
  applied: V1Deployment[];
  statuses: unknown[];
  deletedPods: Array<{ name: string; gracePeriodSeconds?: number }>;
  events: Array<{ reason: string; type: string }>;
  namespaces: string[];
  /** 'apply' and 'status', in the order they were made. */
  order: string[];
}

function reconcilerFor(world: World): { reconciler: DeviceReconciler; writes: Writes } {
  const writes: Writes = {
    applied: [],
    statuses: [],
    deletedPods: [],
    events: [],
    namespaces: [],
    order: [],
  };
  const clients = {
    objects: {
      patch: async (spec: KubernetesObject) => {
        if (world.applyError) throw world.applyError;
        writes.applied.push(spec as V1Deployment);
        writes.order.push('apply');
        return spec;
      },
    },
    customObjects: {
      patchNamespacedCustomObjectStatus: async (params: { body: unknown }) => {
        writes.statuses.push(params.body);
        writes.order.push('status');
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
      profiles: { ...listerOf(world.profiles ?? []), hasSynced: !world.profilesUnsynced },
    },
    clients,
    settings,
    { ensure: async (ns) => void writes.namespaces.push(ns) },
    () => NOW,
    world.rollouts,
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

describe('a Device with a profileRef', () => {
  const login = { secretRef: { name: 'lab-login' } };
  const profile = (spec: DeviceProfile['spec'], name = 'arista'): DeviceProfile => ({
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'DeviceProfile',
    metadata: { name, namespace: 'lab', generation: 4 },
    spec,
  });
  const usingProfile = (status?: Device['status'], spec: Partial<Device['spec']> = {}): Device => ({
    ...device,
    spec: { address: '192.0.2.1', profileRef: { name: 'arista' }, ...spec },
    ...(status ? { status } : {}),
  });
  const arista = profile({
    protocol: 'gnmi',
    credentials: login,
    labels: { site: 'ams1', vendor: 'arista' },
  });
  const merged = {
    address: '192.0.2.1',
    protocol: 'gnmi',
    credentials: login,
    labels: { site: 'ams1', vendor: 'arista' },
  };
  type StatusBody = {
    status: {
      effectiveSpec?: unknown;
      profile?: unknown;
      conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
    };
  };
  const connected = (body: unknown) =>
    (body as StatusBody).status.conditions?.find((c) => c.type === 'Connected');

  const cases: Array<{
    name: string;
    world: World;
    /** The writes in order. */
    order: string[];
    /** The Connected condition's status and reason in the last status written. */
    connected?: [string, string];
    /** What the last status write sets effectiveSpec and profile to (null: removes). */
    effectiveSpec?: unknown;
    profile?: unknown;
    warning?: boolean;
    requeueAfterMs: number;
  }> = [
    {
      name: "its merged spec is written to the status before the Deployment that starts its worker, with the profile's Secret mounted",
      world: { devices: [usingProfile()], profiles: [arista] },
      order: ['status', 'apply', 'status'],
      connected: ['Unknown', 'WorkerPending'],
      effectiveSpec: {},
      profile: {},
      requeueAfterMs: 30_000,
    },
    {
      name: 'a missing profile: no Deployment, Connected False with ProfileNotFound, a Warning Event, a slow retry',
      world: { devices: [usingProfile()] },
      order: ['status'],
      connected: ['False', 'ProfileNotFound'],
      warning: true,
      requeueAfterMs: 60_000,
    },
    {
      name: 'credentials in neither the Device nor its profile: ProfileCredentialsMissing, no Deployment',
      world: { devices: [usingProfile()], profiles: [profile({ labels: { site: 'ams1' } })] },
      order: ['status'],
      connected: ['False', 'ProfileCredentialsMissing'],
      warning: true,
      requeueAfterMs: 60_000,
    },
    {
      name: "a Device whose own fields break its profile's protocol: ProfileInvalid, no Deployment",
      world: {
        devices: [usingProfile(undefined, { tls: { insecure: true } })],
        profiles: [
          profile({ protocol: 'netconf', credentials: login, ssh: { hostKeyVerification: 'Disabled' } }),
        ],
      },
      order: ['status'],
      connected: ['False', 'ProfileInvalid'],
      warning: true,
      requeueAfterMs: 60_000,
    },
    {
      name: 'a profile gone after the merge: the worker and its last merged spec are kept, the status says why',
      world: {
        devices: [
          usingProfile({ effectiveSpec: merged as never, profile: { name: 'arista', generation: 4 } }),
        ],
      },
      order: ['status'],
      connected: ['False', 'ProfileNotFound'],
      effectiveSpec: {},
      profile: {},
      warning: true,
      requeueAfterMs: 60_000,
    },
    {
      name: 'a label dropped from the profile is dropped from the stored merged spec, the rest left as stored',
      world: {
        devices: [
          usingProfile({ effectiveSpec: merged as never, profile: { name: 'arista', generation: 3 } }),
        ],
        profiles: [profile({ protocol: 'gnmi', credentials: login, labels: { site: 'ams1' } })],
      },
      order: ['status', 'apply', 'status'],
      connected: ['Unknown', 'WorkerPending'],
      effectiveSpec: {},
      profile: {},
      requeueAfterMs: 30_000,
    },
    {
      name: 'a profileRef removed: the merged spec and profile are removed from the status',
      world: {
        devices: [
          {
            ...device,
            status: { effectiveSpec: merged as never, profile: { name: 'arista', generation: 4 } },
          },
        ],
        profiles: [arista],
      },
      order: ['apply', 'status'],
      connected: ['Unknown', 'WorkerPending'],
      effectiveSpec: null,
      profile: null,
      requeueAfterMs: 30_000,
    },
    {
      name: 'the profile cache still listing: nothing is written yet, look again soon',
      world: { devices: [usingProfile()], profiles: [arista], profilesUnsynced: true },
      order: [],
      requeueAfterMs: 2_000,
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const { reconciler, writes } = reconcilerFor(c.world);
      const result = await reconciler.reconcile('lab/leaf1');
      assert.deepEqual(result, { requeueAfterMs: c.requeueAfterMs });
      assert.deepEqual(writes.order, c.order);
      const last = writes.statuses.at(-1) as StatusBody | undefined;
      if (c.connected) {
        const condition = connected(last);
        assert.deepEqual([condition?.status, condition?.reason], c.connected, JSON.stringify(last));
      }
      if (c.effectiveSpec === null) assert.equal(last?.status.effectiveSpec, null);
      if (c.profile === null) assert.equal(last?.status.profile, null);
      assert.equal(
        writes.events.some((e) => e.type === 'Warning'),
        c.warning ?? false,
        JSON.stringify(writes.events),
      );
    });
  }

  test("the merged spec and the profile's generation go to the status; the Deployment mounts the profile's credentials", async () => {
    const { reconciler, writes } = reconcilerFor({ devices: [usingProfile()], profiles: [arista] });
    await reconciler.reconcile('lab/leaf1');
    const first = writes.statuses[0] as StatusBody;
    assert.deepEqual(first.status, { effectiveSpec: merged, profile: { name: 'arista', generation: 4 } });
    const volumes = writes.applied[0]!.spec!.template.spec!.volumes!;
    assert.deepEqual(
      volumes.map((v) => [v.name, v.secret?.secretName]),
      [['credentials', 'lab-login']],
    );
  });

  test('a label dropped from the profile becomes a null in the merge patch, so the stored merge loses it', async () => {
    const { reconciler, writes } = reconcilerFor({
      devices: [usingProfile({ effectiveSpec: merged as never, profile: { name: 'arista', generation: 3 } })],
      profiles: [profile({ protocol: 'gnmi', credentials: login, labels: { site: 'ams1' } })],
    });
    await reconciler.reconcile('lab/leaf1');
    const first = writes.statuses[0] as StatusBody;
    assert.deepEqual(first.status, {
      effectiveSpec: { labels: { vendor: null } },
      profile: { generation: 4 },
    });
  });

  test('a profile gone: the existing Deployment is not applied again, the stored merge not touched', async () => {
    const { reconciler, writes } = reconcilerFor({
      devices: [usingProfile({ effectiveSpec: merged as never, profile: { name: 'arista', generation: 4 } })],
    });
    await reconciler.reconcile('lab/leaf1');
    assert.equal(writes.applied.length, 0);
    const last = writes.statuses.at(-1) as StatusBody;
    assert.deepEqual(last.status.effectiveSpec, {}, 'an empty patch: kept as stored');
    assert.match(
      connected(last)?.message ?? '',
      /DeviceProfile lab\/arista \(spec\.profileRef\) does not exist/,
    );
  });
});

describe("a profile edit reaching the profile's Devices", () => {
  const login = { secretRef: { name: 'lab-login' } };
  // Generation 5 moves the Devices from site ams1 to ams2; maxConcurrent 1.
  const profile: DeviceProfile = {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'DeviceProfile',
    metadata: { name: 'arista', namespace: 'lab', generation: 5 },
    spec: { protocol: 'gnmi', credentials: login, labels: { site: 'ams2' }, rollout: { maxConcurrent: 1 } },
  };
  const mergedFrom4 = {
    address: '192.0.2.1',
    protocol: 'gnmi',
    credentials: login,
    labels: { site: 'ams1' },
  };
  const mergedFrom5 = { ...mergedFrom4, labels: { site: 'ams2' } };
  const member = (
    name: string,
    generation: number,
    options: { connected?: boolean; ownEdit?: boolean } = {},
  ): Device => ({
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name, namespace: 'lab', uid: `uid-${name}`, generation: options.ownEdit ? 2 : 1 },
    spec: { address: '192.0.2.1', profileRef: { name: 'arista' } },
    status: {
      observedGeneration: 1,
      conditions: [
        {
          type: 'Connected',
          status: options.connected === false ? 'False' : 'True',
          reason: options.connected === false ? 'Unreachable' : 'Connected',
          message: '',
          lastTransitionTime: ago(600),
        },
      ],
      profile: { name: 'arista', generation },
      effectiveSpec: (generation === 5 ? mergedFrom5 : mergedFrom4) as never,
    },
  });
  /** leaf1's worker, on generation 5 and rolled out: its Lease says so, its Deployment is done. */
  const appliedWorker = (generation: number): Pick<World, 'leases' | 'pods' | 'deployments'> => ({
    leases: [
      {
        ...workerLease(1, 'leaf1-worker-new'),
        metadata: {
          ...workerLease(1).metadata,
          annotations: { [ANNOTATION.appliedProfileGeneration]: String(generation) },
        },
      },
    ],
    pods: [workerPod('leaf1-worker-new', 'node-a')],
    deployments: [
      {
        metadata: { name: workerDeploymentName('leaf1'), namespace: 'lab', generation: 3 },
        spec: { replicas: 1 } as V1Deployment['spec'],
        status: { observedGeneration: 3, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
      },
    ],
  });
  type StatusBody = { status: { profile?: { generation?: number }; effectiveSpec?: unknown } };
  const movedTo = (writes: Writes): number | undefined =>
    (writes.statuses as StatusBody[]).find((b) => b.status.profile?.generation !== undefined)?.status.profile
      ?.generation;

  test("moves one Device at a time: the next waits until the first one's worker applied the edit", async () => {
    const rollouts = new ProfileRollouts();
    const devices = [member('leaf1', 4), member('leaf2', 4), member('leaf3', 4)];
    const first = reconcilerFor({ devices, profiles: [profile], rollouts });
    await first.reconciler.reconcile('lab/leaf1');
    assert.equal(movedTo(first.writes), 5, 'leaf1 merges generation 5');

    const second = reconcilerFor({ devices, profiles: [profile], rollouts });
    const held = await second.reconciler.reconcile('lab/leaf2');
    assert.equal(movedTo(second.writes), undefined, 'leaf2 keeps generation 4 while leaf1 updates');
    assert.deepEqual(held, { requeueAfterMs: 10_000 }, 'held back, with a fallback look');

    // The caches now show leaf1 on generation 5 with its worker applied: the place is free.
    const after = [member('leaf1', 5), member('leaf2', 4), member('leaf3', 4)];
    const third = reconcilerFor({ devices: after, profiles: [profile], rollouts, ...appliedWorker(5) });
    await third.reconciler.reconcile('lab/leaf2');
    assert.equal(movedTo(third.writes), 5, "leaf2's turn");
    const fourth = reconcilerFor({ devices: after, profiles: [profile], rollouts, ...appliedWorker(5) });
    await fourth.reconciler.reconcile('lab/leaf3');
    assert.equal(movedTo(fourth.writes), undefined, 'leaf3 waits for leaf2');
  });

  test('a worker that never applies the edit keeps its place: the rollout stops there', async () => {
    const rollouts = new ProfileRollouts();
    // leaf1 merged generation 5 but its worker still reports 4 (crashing on the new spec, say).
    const devices = [member('leaf1', 5), member('leaf2', 4)];
    const { reconciler, writes } = reconcilerFor({
      devices,
      profiles: [profile],
      rollouts,
      ...appliedWorker(4),
    });
    await reconciler.reconcile('lab/leaf2');
    assert.equal(movedTo(writes), undefined);
  });

  test('a Device that was not connected, or whose own spec was edited, moves at once', async () => {
    const rollouts = new ProfileRollouts();
    const devices = [
      member('leaf1', 5),
      member('leaf2', 4, { connected: false }),
      member('leaf3', 4, { ownEdit: true }),
    ];
    for (const name of ['leaf2', 'leaf3']) {
      const { reconciler, writes } = reconcilerFor({ devices, profiles: [profile], rollouts });
      await reconciler.reconcile(`lab/${name}`);
      assert.equal(movedTo(writes), 5, `${name} moves without a place`);
    }
  });

  test('without a throttle (no gate given) every Device moves at once', async () => {
    const devices = [member('leaf1', 5), member('leaf2', 4)];
    const { reconciler, writes } = reconcilerFor({ devices, profiles: [profile] });
    await reconciler.reconcile('lab/leaf2');
    assert.equal(movedTo(writes), 5);
  });
});
