/**
 * The worker's Device watch hands over the Device as it is collected: with a profileRef, the
 * merged spec the operator wrote to status.effectiveSpec, and nothing before it is written.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Device, EffectiveDeviceSpec } from '@switchforge/platform/crd';
import { DeviceWatch } from './device-watch.js';
import type { KubeConnection } from './kube-connection.js';

const login = { secretRef: { name: 'lab-login' } };
const merged: EffectiveDeviceSpec = {
  address: '192.0.2.21',
  protocol: 'netconf',
  credentials: login,
  ssh: { hostKeyVerification: 'Disabled' },
};

function leaf(resourceVersion: string, status?: Device['status']): Device {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name: 'leaf2', namespace: 'lab', resourceVersion },
    spec: { address: '192.0.2.21', profileRef: { name: 'lab-netconf' } },
    ...(status ? { status } : {}),
  };
}

/** A connection that lists `listed` and then streams `events`, and then waits to be stopped. */
function connection(listed: Device[], events: unknown[]): KubeConnection {
  return {
    json: async () => ({ metadata: { resourceVersion: '1' }, items: listed }),
    stream: async (_path: string, onLine: (e: unknown) => void, signal: AbortSignal) => {
      await new Promise((res) => setImmediate(res));
      for (const e of events.splice(0)) onLine(e);
      if (!signal.aborted) await new Promise((res) => signal.addEventListener('abort', res, { once: true }));
    },
  } as unknown as KubeConnection;
}

describe("the worker's view of a Device with a profileRef", () => {
  test('is its status.effectiveSpec', async () => {
    const watch = new DeviceWatch(connection([leaf('1', { effectiveSpec: merged })], []), 'lab', 'leaf2');
    const device = await watch.start();
    await watch.stop();
    assert.deepEqual(device?.spec, merged);
  });

  test('is not there before the operator has written the merge, and an update without one is skipped', async () => {
    const seen: Array<[string, Device['spec']]> = [];
    const events = [
      { type: 'MODIFIED', object: leaf('2') },
      { type: 'MODIFIED', object: leaf('3', { effectiveSpec: merged }) },
      { type: 'MODIFIED', object: leaf('4', { phase: 'Pending' }) },
    ];
    const watch = new DeviceWatch(connection([leaf('1')], events), 'lab', 'leaf2');
    watch.on((d, kind) => seen.push([kind, d.spec]));
    assert.equal(await watch.start(), undefined);
    await new Promise((res) => setTimeout(res, 50));
    await watch.stop();
    assert.deepEqual(seen, [['add', merged]]);
    assert.deepEqual(watch.current?.spec, merged);
  });
});

test('a Device without a profileRef is its own spec, with the protocol default filled in', async () => {
  const own: Device = {
    ...leaf('1'),
    spec: { address: '192.0.2.21', credentials: login },
  };
  const watch = new DeviceWatch(connection([own], []), 'lab', 'leaf2');
  const device = await watch.start();
  await watch.stop();
  assert.deepEqual(device?.spec, { address: '192.0.2.21', credentials: login, protocol: 'gnmi' });
});
