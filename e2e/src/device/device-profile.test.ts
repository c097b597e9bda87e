/**
 * Devices that take what they share from a DeviceProfile: a Device of an address and a profileRef
 * collects with its profile's login, TLS and subscriptions, a missing profile is the Device's
 * ProfileNotFound with a Warning Event, and a profile that comes back reconnects it. Real parts:
 * kube-apiserver + kwok, the operator, the pod runner starting the worker process, the gNMI
 * simulator, PostgreSQL.
 */
import { gnmiProfile, namespaceTools } from '../harness/manifests.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { waitFor, type Infra } from '@switchforge/testkit';
import type { GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import { startLabDeviceSuite, type LabDeviceSuite } from '../harness/platform-under-test.js';

const ns = `profile-${randomBytes(3).toString('hex')}`;
let lab: LabDeviceSuite;
let infra: Infra;
let sim: GnmiSimulator;

const { kubectl, apply, jsonpath } = namespaceTools(() => infra, ns);

// The interface counters, sampled every second.
const profile = gnmiProfile({ name: 'lab-gnmi' });

const device = (name: string, profileName = 'lab-gnmi') => ({
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { name },
  spec: { address: '127.0.0.1', port: sim.port, profileRef: { name: profileName }, labels: { role: 'leaf' } },
});

before(async () => {
  lab = await startLabDeviceSuite(ns);
  ({ infra, sim } = lab);
});

after(async () => {
  await lab?.stop();
});

const connected = (name: string) =>
  jsonpath(
    `device ${name}`,
    '{.status.conditions[?(@.type=="Connected")].status}/{.status.conditions[?(@.type=="Connected")].reason}',
  );

async function reaches(name: string, want: string, timeoutMs = 60_000): Promise<void> {
  let last = '';
  await waitFor(
    `device ${name} Connected ${want}`,
    async () => (last = await connected(name)) === want,
    timeoutMs,
    500,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; last seen: ${last}`);
  });
}

describe('a Device with a profileRef', () => {
  test("connects with its profile's login, TLS and subscriptions; its status holds the merge, the profile counts it", async () => {
    await apply(profile, device('leaf1'));
    await reaches('leaf1', 'True/Connected');
    const merged = JSON.parse(await jsonpath('device leaf1', '{.status.effectiveSpec}')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(merged.credentials, { secretRef: { name: 'login' } });
    assert.deepEqual(merged.labels, { site: 'lab', role: 'leaf' });
    assert.equal(merged.protocol, 'gnmi');
    assert.equal(await jsonpath('device leaf1', '{.status.profile.name}'), 'lab-gnmi');
    await waitFor(
      'the profile counts its Device',
      async () => (await jsonpath('devprof lab-gnmi', '{.status.devices}')) === '1',
      30_000,
      500,
    );
  });

  test('its profile deleted: ProfileNotFound with a Warning Event; the profile back: connected again', async () => {
    assert.equal((await kubectl('delete', 'devprof', 'lab-gnmi', '-n', ns)).code, 0);
    await reaches('leaf1', 'False/ProfileNotFound');
    let described = '';
    await waitFor(
      'a Warning Event ProfileNotFound',
      async () =>
        /Warning\s+ProfileNotFound\s/.test(
          (described = (await kubectl('describe', 'device', 'leaf1', '-n', ns)).stdout),
        ),
      30_000,
      500,
    );
    assert.ok(described.includes(`DeviceProfile ${ns}/lab-gnmi (spec.profileRef) does not exist`), described);
    await apply(profile);
    await reaches('leaf1', 'True/Connected');
  });

  test("a label dropped from the profile leaves the Device's merged spec, in place: the worker pod stays", async () => {
    const pod = await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[0].metadata.name}');
    await apply(gnmiProfile({ name: 'lab-gnmi' }, { labels: {} }));
    await waitFor(
      'the merged labels without site',
      async () => (await jsonpath('device leaf1', '{.status.effectiveSpec.labels}')) === '{"role":"leaf"}',
      30_000,
      500,
    );
    await reaches('leaf1', 'True/Connected');
    assert.equal(await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[*].metadata.name}'), pod);
  });

  test('a profile that never existed: ProfileNotFound, and no worker Deployment', async () => {
    await apply(device('orphan', 'nosuch'));
    await reaches('orphan', 'False/ProfileNotFound');
    const deployments = await jsonpath(
      'deployments -l switchforge.io/device=orphan',
      '{.items[*].metadata.name}',
    );
    assert.equal(deployments, '');
  });
});
