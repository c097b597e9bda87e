import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Device, DeviceSpec, EffectiveDeviceSpec } from './device.js';
import {
  deviceAsCollected,
  effectiveDeviceSpec,
  ProfileCredentialsMissing,
  ProfileError,
  ProfileInvalid,
  ProfileNotFound,
  type DeviceProfile,
  type DeviceProfileSpec,
} from './deviceprofile.js';

const login = { secretRef: { name: 'lab-login' } };
const counters = { name: 'counters', path: '/interfaces/interface[name=*]/state/counters' };
const interfaces = {
  name: 'interfaces',
  filter: { type: 'subtree' as const, value: '<interfaces/>' },
  interval: '60s',
};

function device(spec: Omit<DeviceSpec, 'address'>): Device {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name: 'leaf1', namespace: 'lab', generation: 1 },
    spec: { address: '192.0.2.1', ...spec },
  };
}

function profile(spec: DeviceProfileSpec, name = 'arista', namespace = 'lab'): DeviceProfile {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'DeviceProfile',
    metadata: { name, namespace, generation: 3 },
    spec,
  };
}

const ref = { profileRef: { name: 'arista' } };

describe('a Device merged over its profile', () => {
  const cases: Array<{
    name: string;
    device: Omit<DeviceSpec, 'address'>;
    profile?: DeviceProfileSpec;
    want: Omit<EffectiveDeviceSpec, 'address'>;
  }> = [
    {
      name: 'without a profileRef, the Device is its own spec, its protocol gnmi when unset',
      device: { credentials: login, port: 6030 },
      want: { protocol: 'gnmi', credentials: login, port: 6030 },
    },
    {
      name: 'without a profileRef, a profile handed in anyway is ignored',
      device: { protocol: 'gnmi', credentials: login },
      profile: { labels: { site: 'ams1' } },
      want: { protocol: 'gnmi', credentials: login },
    },
    {
      name: 'a Device that sets nothing but its address takes everything of the profile',
      device: { ...ref },
      profile: {
        protocol: 'gnmi',
        port: 6030,
        credentials: login,
        tls: { insecure: false, skipVerify: false, caSecretRef: { name: 'lab-ca' } },
        encoding: 'proto',
        subscriptions: [counters],
        labels: { site: 'ams1' },
        backup: { enabled: false },
      },
      want: {
        protocol: 'gnmi',
        port: 6030,
        credentials: login,
        tls: { insecure: false, skipVerify: false, caSecretRef: { name: 'lab-ca' } },
        encoding: 'proto',
        subscriptions: [counters],
        labels: { site: 'ams1' },
        backup: { enabled: false },
      },
    },
    {
      name: "a field the Device sets wins whole: its tls replaces the profile's, no key of the profile's is left",
      device: { ...ref, tls: { insecure: false, skipVerify: true } },
      profile: {
        credentials: login,
        tls: { insecure: false, skipVerify: false, caSecretRef: { name: 'lab-ca' } },
      },
      want: { protocol: 'gnmi', credentials: login, tls: { insecure: false, skipVerify: true } },
    },
    {
      name: "the Device's credentials and port win over the profile's",
      device: { ...ref, credentials: { secretRef: { name: 'leaf1-login' } }, port: 57401 },
      profile: { credentials: login, port: 6030 },
      want: { protocol: 'gnmi', credentials: { secretRef: { name: 'leaf1-login' } }, port: 57401 },
    },
    {
      name: "the Device's subscriptions replace the profile's list, not merged by path",
      device: { ...ref, subscriptions: [{ path: '/system' }] },
      profile: { credentials: login, subscriptions: [counters] },
      want: { protocol: 'gnmi', credentials: login, subscriptions: [{ path: '/system' }] },
    },
    {
      name: "a profile's outputs reach every Device that names it and sets none",
      device: { ...ref },
      profile: {
        credentials: login,
        outputs: { metricPrefix: 'gnmi', prometheus: {}, otlp: { endpoint: 'http://collector:4318' } },
      },
      want: {
        protocol: 'gnmi',
        credentials: login,
        outputs: { metricPrefix: 'gnmi', prometheus: {}, otlp: { endpoint: 'http://collector:4318' } },
      },
    },
    {
      name: "the Device's outputs replace the profile's whole: an output it leaves out is off",
      device: { ...ref, outputs: { prometheus: { port: 9273 } } },
      profile: {
        credentials: login,
        outputs: { stringsAsLabels: true, otlp: { endpoint: 'http://collector:4318' } },
      },
      want: { protocol: 'gnmi', credentials: login, outputs: { prometheus: { port: 9273 } } },
    },
    {
      name: "an empty subscription list on the Device drops the profile's",
      device: { ...ref, subscriptions: [] },
      profile: { credentials: login, subscriptions: [counters] },
      want: { protocol: 'gnmi', credentials: login, subscriptions: [] },
    },
    {
      name: 'labels merge key by key, the Device winning',
      device: { ...ref, labels: { role: 'leaf', site: 'fra1' } },
      profile: { credentials: login, labels: { site: 'ams1', vendor: 'arista' } },
      want: {
        protocol: 'gnmi',
        credentials: login,
        labels: { site: 'fra1', vendor: 'arista', role: 'leaf' },
      },
    },
    {
      name: 'a profile without a protocol serves a NETCONF Device with its ssh and filter subscriptions only',
      device: { ...ref, protocol: 'netconf' },
      profile: {
        credentials: login,
        tls: { caSecretRef: { name: 'lab-ca' } },
        ssh: { hostKeySecretRef: { name: 'lab-hostkeys' }, hostKeyVerification: 'Strict' },
        encoding: 'json',
        subscriptions: [counters, interfaces],
      },
      want: {
        protocol: 'netconf',
        credentials: login,
        ssh: { hostKeySecretRef: { name: 'lab-hostkeys' }, hostKeyVerification: 'Strict' },
        subscriptions: [interfaces],
      },
    },
    {
      name: '… and a gNMI Device with its tls, encoding and path subscriptions only',
      device: { ...ref },
      profile: {
        credentials: login,
        tls: { caSecretRef: { name: 'lab-ca' } },
        ssh: { hostKeySecretRef: { name: 'lab-hostkeys' } },
        encoding: 'json',
        subscriptions: [counters, interfaces],
      },
      want: {
        protocol: 'gnmi',
        credentials: login,
        tls: { caSecretRef: { name: 'lab-ca' } },
        encoding: 'json',
        subscriptions: [counters],
      },
    },
    {
      name: "the profile's protocol is the Device's when it sets none",
      device: { ...ref },
      profile: {
        protocol: 'netconf',
        credentials: login,
        ssh: { hostKeyVerification: 'Disabled' },
        subscriptions: [interfaces],
      },
      want: {
        protocol: 'netconf',
        credentials: login,
        ssh: { hostKeyVerification: 'Disabled' },
        subscriptions: [interfaces],
      },
    },
    {
      name: "a profile's port is for its own protocol: a Device of the other one keeps its default",
      device: { ...ref, protocol: 'gnmi' },
      profile: { protocol: 'netconf', port: 830, credentials: login },
      want: { protocol: 'gnmi', credentials: login },
    },
    {
      name: "the profile's pollInterval comes with a merged subscriptionMode poll, and not without",
      device: { ...ref, subscriptionMode: 'poll' },
      profile: { credentials: login, pollInterval: '30s' },
      want: { protocol: 'gnmi', credentials: login, subscriptionMode: 'poll', pollInterval: '30s' },
    },
    {
      name: "a Device's stream mode drops the profile's poll and its interval",
      device: { ...ref, subscriptionMode: 'stream' },
      profile: { credentials: login, subscriptionMode: 'poll', pollInterval: '30s' },
      want: { protocol: 'gnmi', credentials: login, subscriptionMode: 'stream' },
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      const got = effectiveDeviceSpec(device(c.device), c.profile ? profile(c.profile) : undefined);
      assert.deepEqual(got, { address: '192.0.2.1', ...c.want });
      assert.ok(!('profileRef' in got), 'the merged spec has no profileRef');
    });
  }
});

describe('a Device that cannot be merged with its profile', () => {
  const cases: Array<{
    name: string;
    device: Omit<DeviceSpec, 'address'>;
    profile?: DeviceProfile;
    error: new (...args: never[]) => ProfileError;
    reason: string;
    message: RegExp;
  }> = [
    {
      name: 'a profileRef naming no profile: ProfileNotFound',
      device: { ...ref },
      error: ProfileNotFound,
      reason: 'ProfileNotFound',
      message: /DeviceProfile lab\/arista \(spec\.profileRef\) does not exist/,
    },
    {
      name: 'a profile of another name or namespace is not the one referenced',
      device: { ...ref },
      profile: profile({ credentials: login }, 'arista', 'prod'),
      error: ProfileNotFound,
      reason: 'ProfileNotFound',
      message: /lab\/arista/,
    },
    {
      name: 'credentials in neither: ProfileCredentialsMissing',
      device: { ...ref },
      profile: profile({ labels: { site: 'ams1' } }),
      error: ProfileCredentialsMissing,
      reason: 'ProfileCredentialsMissing',
      message: /neither the Device nor its DeviceProfile arista sets credentials\.secretRef/,
    },
    {
      name: 'no credentials and no profileRef (the schema forbids it; the merge says so too)',
      device: { protocol: 'gnmi' },
      error: ProfileCredentialsMissing,
      reason: 'ProfileCredentialsMissing',
      message: /spec\.credentials is required/,
    },
    {
      name: "the Device's own tls on a NETCONF profile's protocol: ProfileInvalid naming spec.tls",
      device: { ...ref, tls: { insecure: true } },
      profile: profile({ protocol: 'netconf', credentials: login, ssh: { hostKeyVerification: 'Disabled' } }),
      error: ProfileInvalid,
      reason: 'ProfileInvalid',
      message: /spec\.tls: tls applies to protocol gnmi only/,
    },
    {
      name: 'NETCONF with a host key in neither: ProfileInvalid naming spec.ssh.hostKeySecretRef',
      device: { ...ref, protocol: 'netconf' },
      profile: profile({ credentials: login }),
      error: ProfileInvalid,
      reason: 'ProfileInvalid',
      message: /spec\.ssh\.hostKeySecretRef: protocol netconf needs ssh\.hostKeySecretRef/,
    },
    {
      name: "the Device's path subscriptions on a NETCONF profile: ProfileInvalid naming spec.subscriptions",
      device: { ...ref, subscriptions: [counters] },
      profile: profile({ protocol: 'netconf', credentials: login, ssh: { hostKeyVerification: 'Disabled' } }),
      error: ProfileInvalid,
      reason: 'ProfileInvalid',
      message: /spec\.subscriptions: protocol netconf needs a filter and an interval/,
    },
    {
      name: "a profile's poll mode without an interval anywhere",
      device: { ...ref },
      profile: profile({ credentials: login, subscriptionMode: 'poll' }),
      error: ProfileInvalid,
      reason: 'ProfileInvalid',
      message: /spec\.pollInterval: pollInterval is required with subscriptionMode poll/,
    },
    {
      name: "a profile's poll mode with the Device's per-path stream modes",
      device: { ...ref, subscriptions: [{ path: '/system', mode: 'on-change' }] },
      profile: profile({ credentials: login, subscriptionMode: 'once' }),
      error: ProfileInvalid,
      reason: 'ProfileInvalid',
      message:
        /spec\.subscriptions: a subscription's mode \(sample, on-change\) applies to subscriptionMode stream only/,
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => effectiveDeviceSpec(device(c.device), c.profile),
        (e: unknown) => {
          assert.ok(e instanceof c.error, String(e));
          assert.ok(e instanceof ProfileError);
          assert.equal(e.reason, c.reason);
          assert.match(e.message, c.message);
          return true;
        },
      );
    });
  }
});

describe('the Device as its worker collects it', () => {
  test('without a profileRef: its spec, the protocol default filled in', () => {
    const d = device({ credentials: login });
    assert.deepEqual(deviceAsCollected(d)?.spec, {
      address: '192.0.2.1',
      credentials: login,
      protocol: 'gnmi',
    });
  });

  test("with a profileRef: the operator's status.effectiveSpec, and nothing until it is written", () => {
    const d = device({ ...ref });
    assert.equal(deviceAsCollected(d), undefined);
    const effective: EffectiveDeviceSpec = { address: '192.0.2.1', protocol: 'netconf', credentials: login };
    const written = { ...d, status: { effectiveSpec: effective } };
    assert.deepEqual(deviceAsCollected(written)?.spec, effective);
    assert.deepEqual(deviceAsCollected(written)?.metadata, d.metadata);
  });
});
