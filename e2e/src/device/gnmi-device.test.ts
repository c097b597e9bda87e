/**
 * A gNMI Device end to end on the real parts: kube-apiserver + kwok, the operator, the pod
 * runner starting the worker process for the scheduled pod, the gNMI simulator, PostgreSQL.
 */
import { caSecret, loginSecret, namespaceTools } from '../harness/manifests.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '@switchforge/platform/db';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import { startGnmiSimulator, type GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import {
  installCrds,
  startOperator,
  startPodRunner,
  type OperatorHandle,
  type PodRunnerHandle,
} from '../harness/platform-under-test.js';

const ns = `gnmi-${randomBytes(3).toString('hex')}`;
const schema = ns.replace(/-/g, '_');
const device = `${ns}/leaf1`;
let infra: Infra;
let db: pg.Client;
let pki: TestPki;
let sim: GnmiSimulator;
let operator: OperatorHandle;
let pods: PodRunnerHandle;

const { kubectl, apply, jsonpath } = namespaceTools(() => infra, ns);
const rows = async (path?: string) =>
  Number(
    (
      await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM metrics WHERE device = $1 AND ($2::text IS NULL OR path LIKE $2 || '%')`,
        [device, path ?? null],
      )
    ).rows[0]!.n,
  );
const connected = () =>
  jsonpath(
    'device/leaf1',
    '{.status.conditions[?(@.type=="Connected")].status}/{.status.conditions[?(@.type=="Connected")].reason}',
  );

const COUNTERS = '/interfaces/interface[name=*]/state/counters';
const CPU = '/components/component[name=*]/cpu';

function deviceManifest(subscriptions: object[]) {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name: 'leaf1', namespace: ns },
    spec: {
      address: '127.0.0.1',
      port: sim.port,
      protocol: 'gnmi',
      credentials: { secretRef: { name: 'leaf1-login' } },
      tls: { caSecretRef: { name: 'lab-ca' }, serverName: 'localhost' },
      encoding: 'json_ietf',
      subscriptions,
      labels: { site: 'test' },
    },
  };
}

before(async () => {
  infra = await useInfra({ kubernetes: true, postgres: true });
  await installCrds(infra);
  assert.equal((await kubectl('create', 'namespace', ns)).code, 0);
  await migrate({ url: infra.postgres.dsn, schema });
  db = new pg.Client({ connectionString: infra.postgres.dsn, options: `-c search_path=${schema}` });
  await db.connect();
  pki = generateTestPki();
  sim = await startGnmiSimulator({
    deviceNames: ['leaf1'],
    interfaces: 4,
    tls: {
      cert: pki.server.cert,
      key: pki.server.key,
      untrusted: { cert: pki.rogue.cert, key: pki.rogue.key },
    },
    credentials: { username: 'telemetry', password: 's3cret' },
    changeIntervalMs: 500,
  });
  const databaseUrl = `${infra.postgres.dsn}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  operator = await startOperator(infra, { namespace: ns, databaseUrl });
  pods = await startPodRunner(infra, ns);
});

after(async () => {
  await pods?.stop();
  await operator?.stop();
  await sim?.stop();
  pki?.remove();
  await db?.end();
  await kubectl('delete', 'namespace', ns, '--wait=false');
  await infra?.stop();
});

describe('a gNMI Device', () => {
  test('applied with its Secrets, becomes a worker pod on a kwok node whose samples land in PostgreSQL, and shows Connected', async () => {
    await apply(
      loginSecret({ name: 'leaf1-login' }, 'telemetry', 's3cret'),
      caSecret({ name: 'lab-ca' }, pki.ca.cert),
    );
    await apply(deviceManifest([{ path: COUNTERS, mode: 'sample', sampleInterval: '1s' }]));

    await waitFor(
      'the worker pod to run on a kwok node',
      async () =>
        /^kwok-node-\d+$/.test(
          await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[0].spec.nodeName}'),
        ),
      60_000,
      500,
    );
    await waitFor('the worker process', async () => pods.runner.pods.length === 1, 30_000, 250);
    await waitFor(
      'counter rows in PostgreSQL',
      async () => (await rows(`/interfaces/interface/state/counters`)) > 10,
      60_000,
      500,
    );
    await waitFor('status Connected', async () => (await connected()) === 'True/Connected', 30_000, 500);
    const labels = await db.query<{ labels: Record<string, string> }>(
      `SELECT labels FROM metrics WHERE device = $1 LIMIT 1`,
      [device],
    );
    assert.equal(labels.rows[0]!.labels.site, 'test', 'extra labels from the spec are attached');
    assert.ok(labels.rows[0]!.labels.name, 'list keys become labels');
    const numeric = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM metrics WHERE device = $1 AND path LIKE '%/counters/in-octets' AND value IS NOT NULL`,
      [device],
    );
    assert.ok(Number(numeric.rows[0]!.n) > 0, 'counters (JSON_IETF strings) are stored as numbers');
    const table = await kubectl('get', 'devices', '-n', ns);
    assert.match(table.stdout, /leaf1\s+gnmi\s+127\.0\.0\.1\s+True\s+Connected/);
  });

  test('a subscription added to the spec starts collecting without a gap in the unchanged one and without a new pod', async () => {
    const podBefore = await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[0].metadata.name}');
    const changedAt = new Date();
    await apply(
      deviceManifest([
        { path: COUNTERS, mode: 'sample', sampleInterval: '1s' },
        { path: CPU, mode: 'sample', sampleInterval: '1s' },
      ]),
    );
    await waitFor(
      'rows of the added subscription',
      async () => (await rows('/components/component')) > 0,
      30_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const gaps = await db.query<{ gap: number }>(
      `SELECT max(gap) AS gap FROM (
         SELECT extract(epoch FROM ts - lag(ts) OVER (ORDER BY ts)) AS gap
         FROM (SELECT DISTINCT ts FROM metrics WHERE device = $1 AND path LIKE '/interfaces/interface/state/counters%' AND ts > $2::timestamptz - interval '5 seconds') t
       ) g`,
      [device, changedAt],
    );
    assert.ok(
      Number(gaps.rows[0]!.gap) < 2.5,
      `largest gap in the unchanged subscription: ${gaps.rows[0]!.gap}s`,
    );
    assert.equal(
      await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[0].metadata.name}'),
      podBefore,
    );
  });

  const misbehaviours: Array<[string, Parameters<GnmiSimulator['setMisbehaviour']>[0], string]> = [
    ['refuses the credentials', { refuseCredentials: true }, 'AuthFailed'],
    ['presents an untrusted certificate', { untrustedCert: true }, 'TLSError'],
  ];
  for (const [what, misbehaviour, reason] of misbehaviours) {
    test(`a switch that ${what} shows Connected=False/${reason}, and collection recovers when it stops`, async () => {
      await sim.setMisbehaviour(misbehaviour);
      await sim.setMisbehaviour({ dropStream: true });
      await sim.setMisbehaviour({ dropStream: false });
      await waitFor(
        `Connected=False/${reason}`,
        async () => (await connected()) === `False/${reason}`,
        60_000,
        500,
      );
      const reasons = await kubectl(
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        'involvedObject.name=leaf1',
        '-o',
        'jsonpath={.items[*].reason}',
      );
      assert.match(reasons.stdout, new RegExp(reason), 'a Kubernetes Event records the transition');
      const clear = Object.fromEntries(Object.keys(misbehaviour).map((k) => [k, false]));
      await sim.setMisbehaviour(clear);
      const before = await rows();
      await waitFor(
        'Connected=True again',
        async () => (await connected()) === 'True/Connected',
        90_000,
        500,
      );
      await waitFor('new rows after recovery', async () => (await rows()) > before, 30_000, 500);
    });
  }

  test('malformed updates are skipped and counted: the session stays Connected and the Device shows Degraded', async () => {
    await sim.setMisbehaviour({ malformed: true });
    const degraded = () =>
      jsonpath(
        'device/leaf1',
        '{.status.conditions[?(@.type=="Degraded")].status}/{.status.conditions[?(@.type=="Degraded")].reason}',
      );
    await waitFor(
      'Degraded=True/MalformedUpdates',
      async () => (await degraded()) === 'True/MalformedUpdates',
      30_000,
      500,
    );
    assert.equal(await connected(), 'True/Connected');
    const before = await rows();
    await waitFor('good updates still written', async () => (await rows()) > before, 15_000, 500);
    await sim.setMisbehaviour({ malformed: false });
  });

  test('a dropped stream is re-established with backoff and collection continues', async () => {
    await sim.setMisbehaviour({ dropStream: true });
    await new Promise((r) => setTimeout(r, 1500));
    await sim.setMisbehaviour({ dropStream: false });
    const before = await rows();
    await waitFor('rows after the stream came back', async () => (await rows()) > before, 30_000, 500);
    await waitFor('Connected again', async () => (await connected()) === 'True/Connected', 30_000, 500);
  });

  test('a crashed worker process is restarted, takes its lease back at once, and writes no duplicate rows', async () => {
    const pod = await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[0].metadata.name}');
    assert.equal(pods.runner.crash(ns, pod), 1);
    const crashedAt = Date.now();
    const before = await rows();
    await waitFor('rows after the crash', async () => (await rows()) > before, 30_000, 200);
    const recovery = (Date.now() - crashedAt) / 1000;
    assert.ok(recovery < 15, `first new row ${recovery}s after the crash`);
    const dupes = await db.query(
      `SELECT device, path, labels, ts, count(*) FROM metrics GROUP BY 1,2,3,4 HAVING count(*) > 1`,
    );
    assert.equal(dupes.rowCount, 0);
  });

  test('an operator killed and restarted converges without duplicate children', async () => {
    await operator.restart();
    await new Promise((r) => setTimeout(r, 3000));
    const deployments = await kubectl(
      'get',
      'deployments',
      '-n',
      ns,
      '-l',
      'switchforge.io/device=leaf1',
      '-o',
      'name',
    );
    assert.equal(deployments.stdout.trim().split('\n').length, 1);
    await waitFor(
      'status Connected under the new operator',
      async () => (await connected()) === 'True/Connected',
      30_000,
      500,
    );
  });

  test('deleting the Device garbage-collects its Deployment and Lease', async () => {
    assert.equal((await kubectl('delete', 'device', 'leaf1', '-n', ns)).code, 0);
    await waitFor(
      'the Deployment and Lease to be gone',
      async () => {
        const left = await kubectl(
          'get',
          'deployments,leases',
          '-n',
          ns,
          '-l',
          'switchforge.io/device=leaf1',
          '-o',
          'name',
        );
        return left.code === 0 && left.stdout.trim() === '';
      },
      60_000,
      500,
    );
    await waitFor('the worker process to stop', async () => pods.runner.pods.length === 0, 45_000, 500);
  });
});
