/**
 * The DeviceProfile's Device count over listers, and the index that maps a profile's change to
 * the Devices that must merge again.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Device, DeviceProfile } from '@switchforge/platform/crd';
import { listerOf } from '@switchforge/platform/kube';
import { ProfileIndex } from './profile-index.js';
import { ProfileReconciler, type ProfileClients } from './profile-reconciler.js';

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

describe("a DeviceProfile's status", () => {
  const cases: Array<{ name: string; profiles: DeviceProfile[]; devices: Device[]; written: unknown[] }> = [
    {
      name: 'counts the Devices of its namespace that name it, no others',
      profiles: [profile()],
      devices: [
        device('a', 'arista'),
        device('b', 'arista'),
        device('c'),
        device('d', 'other'),
        device('e', 'arista', 'prod'),
      ],
      written: [{ status: { devices: 2, observedGeneration: 2 } }],
    },
    {
      name: 'an unchanged count and generation are not written again',
      profiles: [profile({ devices: 1, observedGeneration: 2 })],
      devices: [device('a', 'arista')],
      written: [],
    },
    {
      name: 'a new generation is written even with the same count',
      profiles: [profile({ devices: 1, observedGeneration: 1 })],
      devices: [device('a', 'arista')],
      written: [{ status: { devices: 1, observedGeneration: 2 } }],
    },
    {
      name: 'a profile that is gone is left alone',
      profiles: [],
      devices: [device('a', 'arista')],
      written: [],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const written: unknown[] = [];
      const clients = {
        customObjects: {
          patchNamespacedCustomObjectStatus: async (p: { body: unknown }) => written.push(p.body),
        },
      } as unknown as ProfileClients;
      const reconciler = new ProfileReconciler(
        { profiles: listerOf(c.profiles), devices: listerOf(c.devices) },
        clients,
      );
      await reconciler.reconcile('lab/arista');
      assert.deepEqual(written, c.written);
    });
  }
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
