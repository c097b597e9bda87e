/**
 * Every failure a user can fix shows where the user looks: `kubectl get devices` names the
 * reason, `kubectl describe device` the object and the cause, with a Warning Event for the
 * transition. Real parts: kube-apiserver + kwok, the operator, the pod runner starting the worker
 * process, the gNMI simulator (a switch that refuses what a real one refuses), PostgreSQL.
 */
import { caSecret, gnmiDevice, namespaceTools } from '../harness/manifests.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { freePort } from '@switchforge/testkit/ports';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import type { GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import {
  installCrds,
  labSwitchSecrets,
  startDevicePlatform,
  startLabSwitch,
} from '../harness/platform-under-test.js';

const ns = `status-${randomBytes(3).toString('hex')}`;
const policy = `${ns}-worker-memory`;
let infra: Infra;
let pki: TestPki;
let sim: GnmiSimulator;
let platform: Awaited<ReturnType<typeof startDevicePlatform>>;

const { kubectl, apply } = namespaceTools(() => infra, ns);
const COUNTERS = '/interfaces/interface[name=*]/state/counters';

const device = (name: string, spec: Record<string, unknown> = {}) =>
  gnmiDevice({ name, namespace: ns }, sim.port, spec);

before(async () => {
  infra = await useInfra({ kubernetes: true, postgres: true });
  await installCrds(infra);
  assert.equal((await kubectl('create', 'namespace', ns)).code, 0);
  assert.equal((await kubectl('label', 'namespace', ns, `switchforge.io/test=${ns}`)).code, 0);
  pki = generateTestPki();
  sim = await startLabSwitch(pki);
  await apply(...labSwitchSecrets(pki));
  platform = await startDevicePlatform(infra, ns);
});

after(async () => {
  await platform?.stop();
  await sim?.stop();
  pki?.remove();
  await kubectl('delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', policy);
  await kubectl('delete', 'namespace', ns, '--wait=false');
  await infra?.stop();
});

/**
 * Waits until `kubectl get device` shows CONNECTED False with `reason`, then returns what
 * `kubectl describe device` prints.
 */
async function shows(name: string, reason: string): Promise<string> {
  const row = new RegExp(`^${name}\\s+gnmi\\s+127\\.0\\.0\\.1\\s+False\\s+${reason}\\s`, 'm');
  let last = '';
  await waitFor(
    `kubectl get device ${name} to show False/${reason}`,
    async () => row.test((last = (await kubectl('get', 'device', name, '-n', ns)).stdout)),
    90_000,
    500,
  ).catch((e: unknown) => {
    throw new Error(`${String(e)}; last seen:\n${last}`);
  });
  let described = '';
  await waitFor(
    `a Warning Event ${reason} on device ${name}`,
    async () =>
      new RegExp(`Warning\\s+${reason}\\s`).test(
        (described = (await kubectl('describe', 'device', name, '-n', ns)).stdout),
      ),
    30_000,
    500,
  );
  return described;
}

describe('a Device whose failure the user can fix', () => {
  test('its credentials Secret does not exist: SecretNotFound names the Secret, its namespace and the field', async () => {
    await apply(device('no-secret', { credentials: { secretRef: { name: 'nosuch-login' } } }));
    const out = await shows('no-secret', 'SecretNotFound');
    assert.ok(
      out.includes(
        `Secret ${ns}/nosuch-login (spec.credentials.secretRef) does not exist or is empty; it needs keys username and password`,
      ),
      out,
    );
    await kubectl('delete', 'device', 'no-secret', '-n', ns, '--wait=false');
  });

  test('its credentials Secret is a kubernetes.io/tls Secret: SecretKeyMissing names the key and the keys there are', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls-not-login' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': pki.client.cert.toString('base64'), 'tls.key': pki.client.key.toString('base64') },
    });
    await apply(device('wrong-type', { credentials: { secretRef: { name: 'tls-not-login' } } }));
    const out = await shows('wrong-type', 'SecretKeyMissing');
    assert.ok(
      out.includes(
        `Secret ${ns}/tls-not-login (spec.credentials.secretRef) has no key "username" (it has tls.crt, tls.key)`,
      ),
      out,
    );
    await kubectl('delete', 'device', 'wrong-type', '-n', ns, '--wait=false');
  });

  test('its CA is not a certificate: SecretInvalid names the Secret and the key', async () => {
    await apply(caSecret({ name: 'bad-ca' }, 'this is not PEM'));
    await apply(device('bad-ca', { tls: { caSecretRef: { name: 'bad-ca' }, serverName: 'localhost' } }));
    const out = await shows('bad-ca', 'SecretInvalid');
    assert.ok(
      out.includes(`Secret ${ns}/bad-ca (spec.tls.caSecretRef) key ca.crt is not a PEM certificate`),
      out,
    );
    await kubectl('delete', 'device', 'bad-ca', '-n', ns, '--wait=false');
  });

  test('the switch rejects its subscription: SubscriptionRejected carries the path and the gNMI status', async () => {
    await apply(device('ascii', { encoding: 'ascii' }));
    const out = await shows('ascii', 'SubscriptionRejected');
    assert.ok(
      out.includes(
        `the switch rejected the subscription to ${COUNTERS}: UNIMPLEMENTED: encoding ASCII is not supported`,
      ),
      out,
    );
    await kubectl('delete', 'device', 'ascii', '-n', ns, '--wait=false');
  });

  test('nothing listens at its address: Unreachable says why, without a dangling "Resolution note"', async () => {
    await apply(device('nobody', { port: await freePort() }));
    const out = await shows('nobody', 'Unreachable');
    assert.match(
      out,
      /Message:\s+UNAVAILABLE: No connection established\. Last error: .*ECONNREFUSED 127\.0\.0\.1:\d+\n/,
    );
    assert.doesNotMatch(out, /Resolution note/);
    await kubectl('delete', 'device', 'nobody', '-n', ns, '--wait=false');
  });

  test('the apiserver refuses its worker Deployment: WorkerRejected carries the apiserver’s message', async () => {
    // An admission policy of the cluster's (a quota or a policy engine would do the same).
    const vap = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['apps'],
              apiVersions: ['v1'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['deployments'],
            },
          ],
        },
        validations: [
          {
            expression:
              "object.spec.template.spec.containers.all(c, !has(c.resources.requests) || !('memory' in c.resources.requests) || quantity(c.resources.requests.memory).compareTo(quantity('1Gi')) <= 0)",
            message: 'workers in this namespace may request at most 1Gi of memory',
          },
        ],
      },
    };
    const binding = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policy },
      spec: {
        policyName: policy,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'switchforge.io/test': ns } } },
      },
    };
    await apply(vap, binding);
    // The apiserver enforces a new policy a moment after it is stored: wait until it denies.
    const probe = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'probe', namespace: ns },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { memory: '2Gi' } } }] },
        },
      },
    });
    await waitFor(
      'the admission policy to be enforced',
      async () =>
        (await infra.kubernetes.kubectl(['create', '--dry-run=server', '-f', '-'], probe)).code !== 0,
      30_000,
      250,
    );
    await apply(device('greedy', { resources: { requests: { memory: '2Gi' } } }));
    const out = await shows('greedy', 'WorkerRejected');
    assert.match(
      out,
      new RegExp(
        `the apiserver refused worker Deployment ${ns}/greedy-worker \\(HTTP 4\\d\\d\\): .*workers in this namespace may request at most 1Gi of memory`,
      ),
    );
    assert.equal(
      (await kubectl('get', 'deployment', 'greedy-worker', '-n', ns)).code,
      1,
      'no Deployment was created',
    );
    await kubectl('delete', 'device', 'greedy', '-n', ns, '--wait=false');
  });
});
