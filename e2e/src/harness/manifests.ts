/**
 * The manifests end-to-end suites apply again and again: Secrets a Device references, and a
 * namespace-bound way to apply documents and read fields with kubectl.
 */
import assert from 'node:assert/strict';
import type { Infra } from '@switchforge/testkit';

type Meta = { name: string; namespace?: string };

/** A Device's credentials Secret (keys `username`, `password`). */
export function loginSecret(meta: Meta, username: string, password: string): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta, stringData: { username, password } };
}

/** A Secret holding the CA (`ca.crt`) that signed a switch's gNMI certificate. */
export function caSecret(meta: Meta, caPem: string | Buffer): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta, stringData: { 'ca.crt': caPem.toString() } };
}

/**
 * A gNMI DeviceProfile for simulators on loopback: the login, TLS and counters subscription of
 * gnmiDevice, label `site: lab`; `spec` overrides.
 */
export function gnmiProfile(meta: Meta, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'DeviceProfile',
    metadata: meta,
    spec: {
      protocol: 'gnmi',
      credentials: { secretRef: { name: 'login' } },
      tls: { caSecretRef: { name: 'lab-ca' }, serverName: 'localhost' },
      subscriptions: [
        { path: '/interfaces/interface[name=*]/state/counters', mode: 'sample', sampleInterval: '1s' },
      ],
      labels: { site: 'lab' },
      ...spec,
    },
  };
}

/**
 * A gNMI Device for a simulator on loopback: TLS against the CA in Secret `lab-ca` (server name
 * localhost), login from Secret `login`, one sampled counters subscription; `spec` overrides.
 */
export function gnmiDevice(meta: Meta, port: number, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: meta,
    spec: {
      address: '127.0.0.1',
      port,
      protocol: 'gnmi',
      credentials: { secretRef: { name: 'login' } },
      tls: { caSecretRef: { name: 'lab-ca' }, serverName: 'localhost' },
      subscriptions: [
        { path: '/interfaces/interface[name=*]/state/counters', mode: 'sample', sampleInterval: '1s' },
      ],
      ...spec,
    },
  };
}

export interface NamespaceTools {
  kubectl(...args: string[]): ReturnType<Infra['kubernetes']['kubectl']>;
  /** Applies the documents in the namespace; a refusal fails the test with kubectl's message. */
  apply(...docs: object[]): Promise<void>;
  /** `kubectl get <resource...> -n ns -o jsonpath=<path>`, trimmed. */
  jsonpath(resource: string, path: string): Promise<string>;
  /** `kubectl get <args...> -n ns -o json`, parsed; a failure fails the test. */
  getJson<T>(...args: string[]): Promise<T>;
  /** The messages of the Events about `name` with `reason`, space-separated. */
  eventMessages(name: string, reason: string): Promise<string>;
}

export function namespaceTools(infra: () => Infra, namespace: string): NamespaceTools {
  const kubectl = (...args: string[]) => infra().kubernetes.kubectl(args);
  return {
    kubectl,
    apply: async (...docs) => {
      const r = await infra().kubernetes.kubectl(
        ['apply', '-n', namespace, '-f', '-'],
        docs.map((d) => JSON.stringify(d)).join('\n'),
      );
      assert.equal(r.code, 0, r.stderr);
    },
    jsonpath: async (resource, path) =>
      (await kubectl('get', ...resource.split(' '), '-n', namespace, '-o', `jsonpath=${path}`)).stdout.trim(),
    getJson: async <T>(...args: string[]) => {
      const r = await kubectl('get', ...args, '-n', namespace, '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as T;
    },
    eventMessages: async (name, reason) =>
      (
        await kubectl(
          'get',
          'events',
          '-n',
          namespace,
          '--field-selector',
          `involvedObject.name=${name},reason=${reason}`,
          '-o',
          'jsonpath={.items[*].message}',
        )
      ).stdout,
  };
}
