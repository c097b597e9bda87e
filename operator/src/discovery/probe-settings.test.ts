import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceDiscoverySpec } from '@switchforge/platform/crd';
import { pinnedKeysFor, probeSettings, type SecretReader } from './probe-settings.js';

// Two distinct ed25519 public key blobs (type string + 32 key bytes).
const blob = (fill: number) =>
  Buffer.concat([
    Buffer.from([0, 0, 0, 11]),
    Buffer.from('ssh-ed25519'),
    Buffer.from([0, 0, 0, 32]),
    Buffer.alloc(32, fill),
  ]).toString('base64');
const keyA = blob(1);
const keyB = blob(2);

describe('pinned host keys for one target', () => {
  const knownHosts = [
    `127.0.0.11 ssh-ed25519 ${keyA}`,
    `[127.0.0.12]:8300,leaf2 ssh-ed25519 ${keyB}`,
    '# comment',
  ].join('\n');
  test('only the lines that name the target (or its [address]:port) apply', () => {
    assert.equal(pinnedKeysFor(knownHosts, '127.0.0.11', 830)[0]!.blob.toString('base64'), keyA);
    assert.equal(pinnedKeysFor(knownHosts, '127.0.0.12', 8300)[0]!.blob.toString('base64'), keyB);
    assert.deepEqual(pinnedKeysFor(knownHosts, '127.0.0.12', 830), []);
    assert.deepEqual(pinnedKeysFor(knownHosts, '127.0.0.13', 830), []);
  });
  test('a bare key line applies to every target', () => {
    assert.equal(pinnedKeysFor(`ssh-ed25519 ${keyA} comment`, '127.0.0.99', 830).length, 1);
  });
});

describe('probe settings from the Secrets', () => {
  const spec: DeviceDiscoverySpec = {
    targets: ['127.0.0.1'],
    probes: [{ protocol: 'gnmi' }, { protocol: 'netconf' }],
    credentialsSecretRef: { name: 'login' },
    schedule: { every: '10m' },
    deviceTemplate: { ssh: { hostKeySecretRef: { name: 'known' } } },
  };
  const secrets: Record<string, Record<string, Buffer>> = {
    login: { username: Buffer.from('ops'), password: Buffer.from('pw') },
    known: { known_hosts: Buffer.from(`127.0.0.1 ssh-ed25519 ${keyA}`) },
  };
  const read: SecretReader = async (_ns, name) => secrets[name];

  test('TLS stays on, verified against the system roots, unless the template says insecure', async () => {
    const s = await probeSettings(spec, 'net', read);
    assert.deepEqual(s.tls, { mode: 'tls' });
    assert.deepEqual(s.login, { username: 'ops', password: 'pw' });
    assert.ok(s.hostKeys?.includes(keyA));
    const insecure = await probeSettings(
      { ...spec, deviceTemplate: { ...spec.deviceTemplate, tls: { insecure: true } } },
      'net',
      read,
    );
    assert.deepEqual(insecure.tls, { mode: 'insecure' });
  });
  test('a missing Secret or key is an error naming it', async () => {
    await assert.rejects(probeSettings({ ...spec, credentialsSecretRef: { name: 'nope' } }, 'net', read), {
      reason: 'SecretNotFound',
      message: 'Secret net/nope not found',
    });
    await assert.rejects(
      probeSettings(
        {
          ...spec,
          deviceTemplate: {
            tls: { caSecretRef: { name: 'login' } },
            ssh: { hostKeyVerification: 'Disabled' },
          },
        },
        'net',
        read,
      ),
      { reason: 'SecretKeyMissing', message: 'Secret login has no key ca.crt' },
    );
  });
});
