/**
 * A NETCONF Device end to end: the same operator and worker machinery as gNMI, an SSH session
 * with a pinned host key from a Secret, polled `<get>` replies becoming rows in PostgreSQL.
 */
import { loginSecret, namespaceTools } from '../harness/manifests.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '@switchforge/platform/db';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { startNetconfSimulator, type NetconfSimulator } from '@switchforge/simulators/netconf';
import {
  installCrds,
  startOperator,
  startPodRunner,
  type OperatorHandle,
  type PodRunnerHandle,
} from '../harness/platform-under-test.js';

const ns = `netconf-${randomBytes(3).toString('hex')}`;
const schema = ns.replace(/-/g, '_');
let infra: Infra;
let db: pg.Client;
let sim: NetconfSimulator;
let operator: OperatorHandle;
let pods: PodRunnerHandle;

const { kubectl, apply } = namespaceTools(() => infra, ns);
const condition = async (name: string, type: string) =>
  (
    await kubectl(
      'get',
      'device',
      name,
      '-n',
      ns,
      '-o',
      `jsonpath={.status.conditions[?(@.type=="${type}")].status}/{.status.conditions[?(@.type=="${type}")].reason}`,
    )
  ).stdout.trim();
const rows = async (device: string) =>
  Number(
    (
      await db.query<{ n: string }>(`SELECT count(*) AS n FROM metrics WHERE device = $1`, [
        `${ns}/${device}`,
      ])
    ).rows[0]!.n,
  );

function device(name: string, hostKeySecret: string) {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name, namespace: ns },
    spec: {
      address: '127.0.0.1',
      port: sim.port,
      protocol: 'netconf',
      credentials: { secretRef: { name: 'nc-login' } },
      ssh: { hostKeySecretRef: { name: hostKeySecret } },
      subscriptions: [
        {
          filter: { type: 'subtree', value: '<interfaces xmlns="http://openconfig.net/yang/interfaces"/>' },
          interval: '1s',
        },
      ],
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
  sim = await startNetconfSimulator({ username: 'netops', password: 'nc-secret', interfaces: 4 });
  const databaseUrl = `${infra.postgres.dsn}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  operator = await startOperator(infra, { namespace: ns, databaseUrl });
  pods = await startPodRunner(infra, ns);
  await apply(loginSecret({ name: 'nc-login' }, 'netops', 'nc-secret'));
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'nc-hostkey' },
    stringData: { 'ssh-hostkey': sim.hostKey },
  });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'wrong-hostkey' },
    stringData: {
      'ssh-hostkey': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
    },
  });
});

after(async () => {
  await pods?.stop();
  await operator?.stop();
  await sim?.stop();
  await db?.end();
  await kubectl('delete', 'namespace', ns, '--wait=false');
  await infra?.stop();
});

describe('a NETCONF Device', () => {
  test('with its pinned host key gets a worker pod whose polled replies land in PostgreSQL as rows, and shows Connected', async () => {
    await apply(device('spine1', 'nc-hostkey'));
    await waitFor('rows from <get> replies', async () => (await rows('spine1')) > 20, 60_000, 500);
    await waitFor(
      'Connected',
      async () => (await condition('spine1', 'Connected')) === 'True/Connected',
      30_000,
      500,
    );
    const sample = await db.query<{ path: string; labels: Record<string, string> }>(
      `SELECT path, labels FROM metrics WHERE device = $1 AND path LIKE '%/counters/in-octets' LIMIT 1`,
      [`${ns}/spine1`],
    );
    assert.equal(sample.rows[0]?.path, '/interfaces/interface/state/counters/in-octets');
    assert.ok(sample.rows[0]?.labels.name, 'the list key is a label');
    const table = await kubectl('get', 'devices', '-n', ns);
    assert.match(table.stdout, /spine1\s+netconf\s+127\.0\.0\.1\s+True\s+Connected/);
  });

  test('a backup requested by annotation stores the running configuration once and reports it in status.lastBackup', async () => {
    const requested = new Date().toISOString();
    const r = await kubectl(
      'annotate',
      'device',
      'spine1',
      '-n',
      ns,
      '--overwrite',
      `switchforge.io/backup-requested=${requested}`,
    );
    assert.equal(r.code, 0, r.stderr);
    await waitFor(
      'a stored backup',
      async () => {
        const b = await db.query(`SELECT 1 FROM config_backups WHERE device = $1`, [`${ns}/spine1`]);
        return (b.rowCount ?? 0) > 0;
      },
      60_000,
      500,
    );
    const stored = await db.query<{ content_hash: string; format: string }>(
      `SELECT content_hash, format FROM config_backups WHERE device = $1`,
      [`${ns}/spine1`],
    );
    assert.equal(stored.rows[0]!.format, 'xml');
    await waitFor(
      'status.lastBackup',
      async () =>
        (
          await kubectl('get', 'device', 'spine1', '-n', ns, '-o', 'jsonpath={.status.lastBackup.hash}')
        ).stdout.trim() === stored.rows[0]!.content_hash,
      30_000,
      500,
    );
    // The same request again, and the unchanged configuration, store nothing new.
    await kubectl(
      'annotate',
      'device',
      'spine1',
      '-n',
      ns,
      '--overwrite',
      `switchforge.io/backup-requested=${new Date().toISOString()}`,
    );
    await new Promise((res) => setTimeout(res, 4000));
    const count = await db.query(`SELECT 1 FROM config_backups WHERE device = $1`, [`${ns}/spine1`]);
    assert.equal(count.rowCount, 1);
  });

  test('a switch whose host key does not match the pinned one is refused: Connected=False/HostKeyMismatch, no rows', async () => {
    await apply(device('spine2', 'wrong-hostkey'));
    await waitFor(
      'HostKeyMismatch',
      async () => (await condition('spine2', 'Connected')) === 'False/HostKeyMismatch',
      60_000,
      500,
    );
    assert.equal(await rows('spine2'), 0);
  });

  test('malformed XML replies are counted and skipped, then collection goes on', async () => {
    sim.setMisbehaviour({ kind: 'malformed-xml' });
    await waitFor(
      'Degraded',
      async () => (await condition('spine1', 'Degraded')).startsWith('True/'),
      30_000,
      500,
    );
    sim.setMisbehaviour({ kind: 'none' });
    const before = await rows('spine1');
    await waitFor('new rows after recovery', async () => (await rows('spine1')) > before, 30_000, 500);
  });
});
