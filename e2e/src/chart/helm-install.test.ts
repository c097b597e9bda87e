/**
 * The chart as a user installs it: `helm install --wait` of the built image onto the real nodes,
 * with PostgreSQL and Temporal outside the cluster (reached through the nodes' relay, as a managed
 * database would be). The operator and API pods must become Ready in their containers (read-only
 * root, non-root, in-cluster credentials through the `kubernetes` Service), a Device must connect
 * from a worker pod the installed operator creates, and a GraphQL client on the user's machine
 * (through `kubectl port-forward`) must read its values and follow them live, the API pod reaching
 * the worker pod over the pod network. `helm uninstall` leaves no workload of the release behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { migrate } from '@switchforge/platform/db';
import { OUTSIDE_ADDRESS } from '@switchforge/testkit/nodes/addresses';
import { exposeToRealNodes } from '@switchforge/testkit/nodes/real-nodes';
import { portForward, type PortForward } from '@switchforge/testkit/nodes/port-forward';
import { onRealNodes, podReachableUrl } from '@switchforge/testkit/nodes/workloads';
import { binary } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { collect, gql, wsClient } from '../api/fixture.js';
import { caSecret, loginSecret, namespaceTools } from '../harness/manifests.js';
import { generateTestPki } from '@switchforge/simulators/certs';
import { startGnmiSimulator, type GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import { chartDir, ensureHelm } from './helm.js';

const ns = 'helm-install';
// Not the other suites' `sf`: cluster-scoped objects of the release must not meet theirs.
const release = 'helm-e2e';
const fullname = `${release}-switchforge`;
let infra: Infra;
let sim: GnmiSimulator;
let db: pg.Pool;
let api: PortForward | undefined;
let valuesDir: string;
const tools = namespaceTools(() => infra, ns);

const helm = (...args: string[]) =>
  run(binary('helm'), ['--kubeconfig', infra.kubernetes.kubeconfig, '--namespace', ns, ...args], {
    timeoutMs: 300_000,
  });

async function podsOf(component: string): Promise<{ name: string; node: string; ready: boolean }[]> {
  const r = await tools.kubectl(
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    `app.kubernetes.io/component=${component}`,
    '-o',
    'json',
  );
  assert.equal(r.code, 0, r.stderr);
  const items = (JSON.parse(r.stdout) as { items: PodJson[] }).items;
  return items.map((p) => ({
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    ready: (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  }));
}

interface PodJson {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { conditions?: { type: string; status: string }[] };
}

before(async () => {
  infra = await useInfra({ kubernetes: true, postgres: true, temporal: true, nodes: true });
  await ensureHelm();
  await migrate({ url: infra.postgres.dsn });
  db = new pg.Pool({ connectionString: infra.postgres.dsn, max: 2 });
  const pki = generateTestPki();
  sim = await startGnmiSimulator({
    deviceNames: ['leaf1'],
    interfaces: 2,
    tls: { cert: pki.server.cert, key: pki.server.key },
    credentials: { username: 'u', password: 'p' },
  });
  await exposeToRealNodes(infra.realNodes, sim.port);
  const temporalPort = Number(infra.temporal.address.split(':').at(-1));
  await exposeToRealNodes(infra.realNodes, temporalPort);

  assert.equal((await tools.kubectl('create', 'namespace', ns)).code, 0);
  await tools.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'switchforge-db' },
      stringData: { url: await podReachableUrl(infra.realNodes, infra.postgres.dsn) },
    },
    loginSecret({ name: 'login' }, 'u', 'p'),
    caSecret({ name: 'lab-ca' }, pki.ca.cert),
  );

  // What a user's values file holds for this cluster: the database Secret, where Temporal is, the
  // image already on the nodes, and the nodes the workloads may run on.
  valuesDir = mkdtempSync(join(tmpdir(), 'switchforge-values-'));
  const values = {
    image: { pullPolicy: 'Never' },
    database: { existingSecret: 'switchforge-db' },
    temporal: { address: `${OUTSIDE_ADDRESS}:${temporalPort}`, namespace: infra.temporal.namespace },
    // The audio image (torch) is not built for this suite; the device path is what it proves.
    audio: { enabled: false },
    operator: { watchNamespace: ns, ...onRealNodes },
    api: onRealNodes,
    deviceWorker: onRealNodes,
  };
  writeFileSync(join(valuesDir, 'values.json'), JSON.stringify(values));
});

after(async () => {
  await api?.close();
  await sim?.stop();
  await db?.end();
  await infra?.kubernetes.kubectl(['delete', 'namespace', ns, '--wait=false']);
  if (valuesDir) rmSync(valuesDir, { recursive: true, force: true });
  await infra?.stop();
});

describe('helm install onto the real nodes', () => {
  test('brings the operator and the API up Ready on the real nodes', async () => {
    const r = await helm(
      'install',
      release,
      chartDir,
      '-f',
      join(valuesDir, 'values.json'),
      '--wait',
      '--timeout',
      '4m',
    );
    if (r.code !== 0) {
      const pods = await tools.kubectl('get', 'pods', '-n', ns, '-o', 'wide');
      const events = await tools.kubectl('get', 'events', '-n', ns, '--sort-by=.lastTimestamp');
      assert.fail(
        `helm install: ${r.stderr}\n${pods.stdout}\n${events.stdout.split('\n').slice(-30).join('\n')}`,
      );
    }
    const nodes = new Set(Object.keys(infra.realNodes.nodes));
    for (const component of ['operator', 'api']) {
      const pods = await podsOf(component);
      assert.equal(pods.length, 2, `${component}: ${JSON.stringify(pods)}`);
      assert.ok(
        pods.every((p) => p.ready && nodes.has(p.node)),
        `${component}: ${JSON.stringify(pods)}`,
      );
    }
  });

  test('a Device connects from the worker pod the installed operator creates, and its rows are committed', async () => {
    await tools.apply({
      apiVersion: 'switchforge.io/v1alpha1',
      kind: 'Device',
      metadata: { name: 'leaf1' },
      spec: {
        address: OUTSIDE_ADDRESS,
        port: sim.port,
        credentials: { secretRef: { name: 'login' } },
        tls: { caSecretRef: { name: 'lab-ca' }, serverName: 'localhost' },
        subscriptions: [
          { path: '/interfaces/interface[name=*]/state/counters', mode: 'sample', sampleInterval: '1s' },
        ],
      },
    });
    await waitFor(
      'leaf1 Connected',
      async () =>
        (await tools.jsonpath('device/leaf1', '{.status.conditions[?(@.type=="Connected")].status}')) ===
        'True',
      120_000,
    ).catch(async (e: unknown) => {
      const status = await tools.kubectl('get', 'device', 'leaf1', '-n', ns, '-o', 'jsonpath={.status}');
      throw new Error(`${String(e)}; status ${status.stdout}`);
    });
    await waitFor(
      'rows of leaf1',
      async () =>
        Number(
          (
            await db.query<{ n: string }>('SELECT count(*) AS n FROM metrics WHERE device = $1', [
              `${ns}/leaf1`,
            ])
          ).rows[0]!.n,
        ) > 0,
      60_000,
    );
    const printed = await tools.kubectl('get', 'devices', '-n', ns);
    assert.match(printed.stdout, /leaf1\s+.*True/, printed.stdout);
  });

  test('a GraphQL client on this machine reads the values and follows them live through the API Service', async () => {
    api = await portForward(infra.kubernetes, ns, `service/${fullname}-api`, 80);
    const url = `${api.url}/graphql`;
    await tools.apply(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'device-reader' },
        rules: [{ apiGroups: ['switchforge.io'], resources: ['devices'], verbs: ['get', 'list', 'watch'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'reader-device-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'device-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    );
    const token = (await tools.kubectl('create', 'token', 'reader', '-n', ns, '--duration=1h')).stdout.trim();
    const query = `query($ns: String!) { device(namespace: $ns, name: "leaf1") { latestValues(pathPrefix: "/interfaces") { path value } } }`;

    const anonymous = await gql(url, undefined, query, { ns });
    assert.ok(anonymous.status === 401 || (anonymous.body.errors?.length ?? 0) > 0, 'no token, no data');

    const read = await gql(url, token, query, { ns });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    const values = (read.body.data?.device as { latestValues: { path: string; value: number | null }[] })
      .latestValues;
    assert.ok(
      values.some((v) => v.path.includes('in-octets') && typeof v.value === 'number'),
      JSON.stringify(values.slice(0, 5)),
    );

    const client = wsClient(url, token);
    try {
      const sub = collect<{ deviceUpdates: { sequence: string; values: { path: string }[] } }>(
        client,
        `subscription($ns: String!) { deviceUpdates(namespace: $ns, name: "leaf1") { sequence values { path } } }`,
        { ns },
        2,
        30_000,
      );
      const messages = await sub.done;
      assert.equal(messages.length, 2, JSON.stringify(messages));
      const seqs = messages.map((m) => BigInt(m.data!.deviceUpdates.sequence));
      assert.ok(seqs[1]! > seqs[0]!, `sequences increase: ${seqs.join(', ')}`);
    } finally {
      await client.dispose();
    }
  });

  test('helm uninstall removes the operator, the API and their RBAC', async () => {
    await api?.close();
    api = undefined;
    const r = await helm('uninstall', release, '--wait', '--timeout', '2m');
    assert.equal(r.code, 0, r.stderr);
    for (const component of ['operator', 'api']) {
      await waitFor(`no ${component} pods`, async () => (await podsOf(component)).length === 0, 60_000);
    }
    const roles = await tools.kubectl('get', 'clusterrole', '-o', 'name');
    assert.ok(!roles.stdout.includes(`${fullname}-`), roles.stdout);
  });
});
