/**
 * One real control plane (RBAC, service-account tokens, kwok pods), PostgreSQL in a schema of
 * its own, an in-process device worker live server found through a real Lease and Pod, and the
 * API under test. Shared by the API's end-to-end suites.
 */
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { migrate } from '@switchforge/platform/db';
import { deviceLeaseName } from '@switchforge/platform/device-worker';
import { startApiServer, type ApiServer, type ApiServerOptions } from '@switchforge/api/server';
import { LiveFeed } from '@switchforge/worker/live/live-feed';
import { startLiveServer, type LiveServer } from '@switchforge/worker/live/live-server';
import { repoRoot } from '@switchforge/testkit/paths';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';

export interface ApiFixture {
  infra: Infra;
  kubeConfig: KubeConfig;
  namespaces: { a: string; b: string };
  /** Tokens of ServiceAccount `reader` in each namespace (may read devices and manage audiojobs there only). */
  tokens: { a: string; b: string };
  schema: string;
  feed: LiveFeed;
  live: LiveServer;
  /** The worker pod (in namespace a) that holds device a/leaf1's lease. */
  workerPod: string;
  startApi(overrides?: Partial<ApiServerOptions>): Promise<ApiServer>;
  publish(device: string, values: number[], path?: string): number[];
  /**
   * The device worker restarts: its live server stops and a new one, with an empty ring, serves
   * on the same port, issuing sequences above the old one's (the hybrid clock moved on).
   */
  restartWorker(): Promise<void>;
  stop(): Promise<void>;
}

async function ok(infra: Infra, args: string[], input?: string): Promise<string> {
  const r = await infra.kubernetes.kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function device(namespace: string, name: string, labels: Record<string, string>) {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name, namespace, labels },
    spec: {
      address: `${name}.lab.example.net`,
      protocol: 'gnmi',
      credentials: { secretRef: { name: `${name}-login` } },
    },
  };
}

export async function startApiFixture(tag: string): Promise<ApiFixture> {
  const infra = await useInfra({ kubernetes: true, postgres: true });
  const suffix = `${tag}-${process.pid}`;
  const namespaces = { a: `api-a-${suffix}`, b: `api-b-${suffix}` };
  await ok(infra, [
    'apply',
    '-f',
    join(repoRoot, 'crds', 'device.yaml'),
    '-f',
    join(repoRoot, 'crds', 'audiojob.yaml'),
  ]);
  await ok(infra, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/devices.switchforge.io',
    'crd/audiojobs.switchforge.io',
  ]);

  const rbac = (ns: string) => [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'switchforge-user', namespace: ns },
      rules: [
        { apiGroups: ['switchforge.io'], resources: ['devices'], verbs: ['get', 'list', 'watch', 'patch'] },
        {
          apiGroups: ['switchforge.io'],
          resources: ['audiojobs'],
          verbs: ['get', 'list', 'watch', 'create', 'delete'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader-switchforge-user', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'switchforge-user' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    },
  ];
  const workerPod = 'leaf1-worker-0';
  const objects = [
    ...rbac(namespaces.a),
    ...rbac(namespaces.b),
    device(namespaces.a, 'leaf1', { site: 'ams', role: 'leaf' }),
    device(namespaces.a, 'spine1', { site: 'ams', role: 'spine' }),
    device(namespaces.b, 'secret-leaf', { site: 'fra', role: 'leaf' }),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: workerPod, namespace: namespaces.a },
      spec: {
        containers: [{ name: 'worker', image: 'example.invalid/worker:1', command: ['sleep', 'infinity'] }],
      },
    },
  ];
  for (const o of objects) await ok(infra, ['apply', '-f', '-'], JSON.stringify(o));
  const token = async (ns: string) =>
    (await ok(infra, ['create', 'token', 'reader', '-n', ns, '--duration=1h'])).trim();
  const tokens = { a: await token(namespaces.a), b: await token(namespaces.b) };

  let feed = new LiveFeed();
  let live = await startLiveServer(feed, { host: '127.0.0.1', port: 0, heartbeatMs: 1_000 });
  const lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: deviceLeaseName('leaf1'), namespace: namespaces.a },
    spec: {
      holderIdentity: workerPod,
      leaseDurationSeconds: 3600,
      renewTime: new Date().toISOString().replace('Z', '000Z'),
    },
  };
  await ok(infra, ['apply', '-f', '-'], JSON.stringify(lease));

  const schema = `api_${tag.replace(/\W/g, '_')}_${process.pid}`;
  await migrate({ url: infra.postgres.dsn, schema });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(infra.kubernetes.kubeconfig);

  const servers: ApiServer[] = [];
  return {
    infra,
    kubeConfig,
    namespaces,
    tokens,
    schema,
    get feed() {
      return feed;
    },
    get live() {
      return live;
    },
    workerPod,
    async startApi(overrides = {}) {
      const s = await startApiServer({
        kubeConfig,
        database: { url: infra.postgres.dsn, schema },
        mode: 'development',
        workers: { address: (pod) => (pod.name === workerPod ? `127.0.0.1:${live.port}` : undefined) },
        ...overrides,
      });
      servers.push(s);
      await waitFor(
        'the informers to see the devices',
        async () => s.services.cache.devices.list().length >= 3,
        30_000,
        100,
      );
      return s;
    },
    publish(name, values, path = '/interfaces/interface/state/counters/in-octets') {
      const dev = `${namespaces.a}/${name}`;
      return values.map(
        (value, i) =>
          feed.publish({
            device: dev,
            samples: [
              {
                device: dev,
                path,
                labels: { name: 'Ethernet1' },
                timestampNs: BigInt(Date.now()) * 1_000_000n + BigInt(i),
                value,
              },
            ],
          })!.seq,
      );
    },
    async restartWorker() {
      const port = live.port;
      const last = Math.max(0, ...feed.devices().map((d) => feed.head(d) ?? 0));
      await live.close();
      // A successor whose clock is ahead of the last sequence, as the hybrid clock assumes.
      feed = new LiveFeed({ now: () => Math.max(Date.now(), last / 1000 + 1) });
      live = await startLiveServer(feed, { host: '127.0.0.1', port, heartbeatMs: 1_000 });
    },
    async stop() {
      for (const s of servers) await s.close().catch(() => undefined);
      await live.close();
      await infra.kubernetes.kubectl(['delete', 'namespace', namespaces.a, namespaces.b, '--wait=false']);
      await infra.stop();
    },
  };
}

/** A graphql-ws client (the protocol peer written by others) with a bearer token in connection_init. */
export function wsClient(
  url: string,
  token: string | undefined,
  options: { retryAttempts?: number } = {},
): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: options.retryAttempts ?? 0,
    lazy: true,
  });
}

/** A query over HTTP with a bearer token. */
export async function gql(
  url: string,
  token: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

/** Collects a subscription's messages until `count` have arrived or `timeoutMs` passes. */
export function collect<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  count: number,
  timeoutMs = 15_000,
) {
  const messages: {
    data?: T;
    errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
  }[] = [];
  let unsubscribe: () => void = () => undefined;
  const done = new Promise<typeof messages>((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve(messages);
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve(messages);
    };
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (m) => {
          messages.push(m as (typeof messages)[number]);
          if (messages.length >= count) {
            unsubscribe();
            finish();
          }
        },
        error: (e) => {
          messages.push({
            errors: Array.isArray(e)
              ? (e as never)
              : [{ message: String((e as { reason?: string }).reason ?? e) }],
          });
          finish();
        },
        complete: finish,
      },
    );
  });
  return { done, messages, stop: () => unsubscribe() };
}
