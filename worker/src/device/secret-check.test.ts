import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Device } from '@switchforge/platform/crd';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import type { DeviceSecrets } from './device-secrets.js';
import { sshKeyError } from '../netconf/ssh-key.js';
import { checkDeviceSecrets } from './secret-check.js';

let pki: TestPki;
before(() => {
  pki = generateTestPki();
});
after(() => pki.remove());

const HOST_KEY = 'spine1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIVD6Zr135Pl/q0bg0DNv9jirHfAvBzqOIH8Q45a8DDO';

function deviceOf(name: string, spec: Omit<Device['spec'], 'address' | 'credentials'>): Device {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name, namespace: 'lab' },
    spec: { address: '10.0.0.1', credentials: { secretRef: { name: `${name}-login` } }, ...spec },
  };
}
const gnmi = (tls?: Device['spec']['tls']) =>
  deviceOf('leaf1', { protocol: 'gnmi', ...(tls ? { tls } : {}) });
const netconf = deviceOf('spine1', {
  protocol: 'netconf',
  ssh: { hostKeySecretRef: { name: 'spine1-hostkey' } },
});
const login: DeviceSecrets = {
  keys: { credentials: ['password', 'username'] },
  username: 'u',
  password: 'p',
};

test('each Secret problem names the Secret, its namespace, the field that names it, and the key', () => {
  const ca = { tls: { caSecretRef: { name: 'lab-ca' } } };
  const mtls = { tls: { clientCertSecretRef: { name: 'leaf1-client' } } };
  // ssh2 reads PEM RSA (and OpenSSH) keys; a PKCS#8 ed25519 key it cannot use is reported, as above.
  const sshKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
  const cases: [string, Device, DeviceSecrets, string | undefined, string | undefined][] = [
    ['all present', gnmi(), login, undefined, undefined],
    [
      'no credentials Secret',
      gnmi(),
      { keys: {} },
      'SecretNotFound',
      'Secret lab/leaf1-login (spec.credentials.secretRef) does not exist or is empty; it needs keys username and password',
    ],
    [
      'a TLS Secret where the login belongs',
      gnmi(),
      { keys: { credentials: ['tls.crt', 'tls.key'] }, clientCertPem: 'x' },
      'SecretKeyMissing',
      'Secret lab/leaf1-login (spec.credentials.secretRef) has no key "username" (it has tls.crt, tls.key); it needs keys username and password',
    ],
    [
      'gNMI login without password',
      gnmi(),
      { keys: { credentials: ['username'] }, username: 'u' },
      'SecretKeyMissing',
      'Secret lab/leaf1-login (spec.credentials.secretRef) has no key "password" (it has username); it needs keys username and password',
    ],
    [
      'CA Secret without ca.crt',
      gnmi(ca.tls),
      { ...login, keys: { ...login.keys, tlsCa: ['ca.pem'] } },
      'SecretKeyMissing',
      'Secret lab/lab-ca (spec.tls.caSecretRef) has no key "ca.crt" (it has ca.pem); it needs key ca.crt',
    ],
    [
      'CA that is not PEM',
      gnmi(ca.tls),
      { ...login, keys: { ...login.keys, tlsCa: ['ca.crt'] }, caPem: 'not a certificate' },
      'SecretInvalid',
      'Secret lab/lab-ca (spec.tls.caSecretRef) key ca.crt is not a PEM certificate: ',
    ],
    [
      'client Secret of the wrong type (no tls.key)',
      gnmi(mtls.tls),
      {
        ...login,
        keys: { ...login.keys, tlsClient: ['tls.crt'] },
        clientCertPem: pki.client.cert.toString(),
      },
      'SecretKeyMissing',
      'Secret lab/leaf1-client (spec.tls.clientCertSecretRef) has no key "tls.key" (it has tls.crt); it needs type kubernetes.io/tls (keys tls.crt and tls.key)',
    ],
    [
      'client key that belongs to another certificate',
      gnmi(mtls.tls),
      {
        ...login,
        keys: { ...login.keys, tlsClient: ['tls.crt', 'tls.key'] },
        clientCertPem: pki.client.cert.toString(),
        clientKeyPem: pki.server.key.toString(),
      },
      'SecretInvalid',
      'Secret lab/leaf1-client (spec.tls.clientCertSecretRef) key tls.key is not the private key of the certificate in tls.crt',
    ],
    [
      'a matching client pair',
      gnmi(mtls.tls),
      {
        ...login,
        keys: { ...login.keys, tlsClient: ['tls.crt', 'tls.key'] },
        clientCertPem: pki.client.cert.toString(),
        clientKeyPem: pki.client.key.toString(),
      },
      undefined,
      undefined,
    ],
    [
      'NETCONF with a private key that does not parse',
      netconf,
      {
        keys: { credentials: ['ssh-privatekey', 'username'], sshHostKey: ['known_hosts'] },
        username: 'u',
        privateKey: 'garbage',
        hostKey: HOST_KEY,
      },
      'SecretInvalid',
      'Secret lab/spine1-login (spec.credentials.secretRef) key ssh-privatekey is not an SSH private key: ',
    ],
    [
      'NETCONF with a usable key and host key',
      netconf,
      {
        keys: { credentials: ['ssh-privatekey', 'username'], sshHostKey: ['known_hosts'] },
        username: 'u',
        privateKey: sshKey,
        hostKey: HOST_KEY,
      },
      undefined,
      undefined,
    ],
    [
      'host key Secret that holds no key',
      netconf,
      { ...login, keys: { ...login.keys, sshHostKey: ['known_hosts'] }, hostKey: '# nothing here' },
      'SecretInvalid',
      'Secret lab/spine1-hostkey (spec.ssh.hostKeySecretRef) key known_hosts holds no SSH public key: ',
    ],
    [
      'missing host key Secret',
      netconf,
      login,
      'SecretNotFound',
      'Secret lab/spine1-hostkey (spec.ssh.hostKeySecretRef) does not exist or is empty; it needs key known_hosts (or ssh-hostkey)',
    ],
  ];
  for (const [name, device, secrets, reason, message] of cases) {
    const problem = checkDeviceSecrets(device, secrets, sshKeyError);
    assert.equal(problem?.reason, reason, `${name}: ${problem?.message}`);
    if (message === undefined) assert.equal(problem, undefined, name);
    else assert.ok(problem?.message.startsWith(message), `${name}: ${problem?.message}`);
  }
});
