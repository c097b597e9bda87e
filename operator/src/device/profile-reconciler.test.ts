/**
 * The DeviceProfile's status over listers (its Devices, and how far an edit has rolled out), and the index that maps a profile's change to
 * the Devices that must merge again.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Deployment, V1Lease, V1Pod } from '@kubernetes/client-node';
import type { Device, DeviceProfile, DeviceProfileStatus } from '@switchforge/platform/crd';
import { ANNOTATION, deviceLeaseName, workerDeploymentName } from '@switchforge/platform/device-worker';
import { listerOf } from '@switchforge/platform/kube';
import { ProfileIndex } from './profile-index.js';
import { ProfileReconciler, type ProfileCaches, type ProfileClients } from './profile-reconciler.js';

const device = (name: string, profile?: string, namespace = 'lab'): Device => ({
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { name, namespace },
  spec: { address: '192.0.2.1', ...(profile ? { profileRef: { name: profile } } : {}) },
});

const profile = (status?: DeviceProfile['status']): DeviceProfile => ({
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'DeviceProfile',
  metadata: { name: 'arista', namespace: 'lab', generation: 2 },
  spec: {},
  ...(status ? { status } : {}),
});

const NOW = new Date('2026-12-03T12:00:00Z');

/** A Device merged from generation `generation` of arista, its worker having applied it or not. */
function merged(name: string, generation: number): Device {
  return { ...device(name, 'arista'), status: { profile: { name: 'arista', generation } } };
}

/** What the caches show of a worker that applied `generation` and finished rolling out. */
function appliedWorkers(
  names: string[],
  generation: number,
): Pick<ProfileCaches, 'leases' | 'pods' | 'deployments'> {
  return {
    leases: listerOf<V1Lease>(
      names.map((n) => ({
        metadata: {
          name: deviceLeaseName(n),
          namespace: 'lab',
          annotations: { [ANNOTATION.appliedProfileGeneration]: String(generation) },
        },
        spec: {
          holderIdentity: `${n}-pod`,
          renewTime: new Date(NOW.getTime() - 1000) as unknown as Date,
          leaseDurationSeconds: 8,
        },
      })),
    ),
    pods: listerOf<V1Pod>(names.map((n) => ({ metadata: { name: `${n}-pod`, namespace: 'lab' } }))),
    deployments: listerOf<V1Deployment>(
      names.map((n) => ({
        metadata: { name: workerDeploymentName(n), namespace: 'lab', generation: 1 },
        spec: { replicas: 1 } as V1Deployment['spec'],
        status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 },
      })),
    ),
  };
}

const noWorkers = appliedWorkers([], 0);

async function reconcileProfile(
  profiles: DeviceProfile[],
  devices: Device[],
  workers = noWorkers,
): Promise<{ written: Array<{ status: DeviceProfileStatus }>; woken: string[][]; result: unknown }> {
  const written: Array<{ status: DeviceProfileStatus }> = [];
  const woken: string[][] = [];
  const clients = {
    customObjects: {
      patchNamespacedCustomObjectStatus: async (p: { body: { status: DeviceProfileStatus } }) =>
        written.push(p.body),
    },
  } as unknown as ProfileClients;
  const reconciler = new ProfileReconciler(
    { profiles: listerOf(profiles), devices: listerOf(devices), ...workers },
    clients,
    (keys) => woken.push(keys),
    () => NOW,
  );
  const result = await reconciler.reconcile('lab/arista');
  return { written, woken, result };
}

const rolledOut = (status: DeviceProfileStatus | undefined) =>
  status?.conditions?.find((c) => c.type === 'RolledOut');

describe("a DeviceProfile's status", () => {
  test('counts the Devices of its namespace that name it, no others', async () => {
    const { written } = await reconcileProfile(
      [profile()],
      [
        device('a', 'arista'),
        device('b', 'arista'),
        device('c'),
        device('d', 'other'),
        device('e', 'arista', 'prod'),
      ],
    );
    assert.equal(written[0]?.status.devices, 2);
    assert.equal(written[0]?.status.observedGeneration, 2);
  });

  test('every Device on its generation, applied by its worker: RolledOut, and no look again', async () => {
    const { written, result, woken } = await reconcileProfile(
      [profile()],
      [merged('a', 2), merged('b', 2)],
      appliedWorkers(['a', 'b'], 2),
    );
    assert.equal(written[0]?.status.updatedDevices, 2);
    const condition = rolledOut(written[0]?.status);
    assert.deepEqual([condition?.status, condition?.reason], ['True', 'RolloutComplete']);
    assert.equal(result, undefined);
    assert.deepEqual(woken, []);
  });

  test('mid-rollout: counts the updated, names the waiting, wakes as many as there are free places', async () => {
    // 10 Devices at maxConcurrent 3: a and b updated, c merged but not applied, the rest on 1.
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const devices = names.map((n, i) => merged(n, i < 3 ? 2 : 1));
    const { written, woken, result } = await reconcileProfile(
      [{ ...profile(), spec: { rollout: { maxConcurrent: 3 } } }],
      devices,
      appliedWorkers(['a', 'b'], 2),
    );
    const status = written[0]!.status;
    assert.equal(status.updatedDevices, 2);
    const condition = rolledOut(status);
    assert.deepEqual([condition?.status, condition?.reason], ['False', 'Progressing']);
    assert.match(
      condition!.message,
      /2 of 10 Devices run generation 2; 1 updating \(at most 3 at a time\), 7 waiting: c, d, e, f, g, and 3 more/,
    );
    assert.deepEqual(woken, [['lab/d', 'lab/e']], 'two places free: the next two in line');
    assert.deepEqual(result, { requeueAfterMs: 1_000 });
  });

  test('an unchanged status is not written again', async () => {
    const first = await reconcileProfile([profile()], [merged('a', 2)], appliedWorkers(['a'], 2));
    const again = await reconcileProfile(
      [profile(first.written[0]!.status)],
      [merged('a', 2)],
      appliedWorkers(['a'], 2),
    );
    assert.deepEqual(again.written, []);
  });

  test('a profile that is gone is left alone', async () => {
    const { written } = await reconcileProfile([], [device('a', 'arista')]);
    assert.deepEqual(written, []);
  });
});

describe('Devices indexed by their profile', () => {
  test('a profile lists the Devices of its namespace that name it', () => {
    const index = new ProfileIndex();
    assert.deepEqual(index.update(device('b', 'arista'), 'add'), ['lab/arista']);
    index.update(device('a', 'arista'), 'add');
    index.update(device('c'), 'add');
    index.update(device('d', 'arista', 'prod'), 'add');
    assert.deepEqual(index.devices('lab/arista'), ['lab/a', 'lab/b']);
    assert.deepEqual(index.devices('prod/arista'), ['prod/d']);
    assert.deepEqual(index.devices('lab/other'), []);
  });

  test('a Device that changes its profileRef moves, and both profiles are re-counted', () => {
    const index = new ProfileIndex();
    index.update(device('a', 'arista'), 'add');
    assert.deepEqual(index.update(device('a', 'juniper'), 'update'), ['lab/arista', 'lab/juniper']);
    assert.deepEqual(index.devices('lab/arista'), []);
    assert.deepEqual(index.devices('lab/juniper'), ['lab/a']);
    assert.deepEqual(index.update(device('a'), 'update'), ['lab/juniper']);
    assert.deepEqual(index.devices('lab/juniper'), []);
  });

  test('an update that keeps the profileRef re-counts nothing; a deletion re-counts its profile', () => {
    const index = new ProfileIndex();
    index.update(device('a', 'arista'), 'add');
    assert.deepEqual(index.update(device('a', 'arista'), 'update'), []);
    assert.deepEqual(index.update(device('a', 'arista'), 'delete'), ['lab/arista']);
    assert.deepEqual(index.devices('lab/arista'), []);
  });
});
