/**
 * DeviceInventory against a real kube-apiserver and a NetBox stand-in on 127.0.0.1: an HTTPS
 * server (certificate from a test CA, given to the inventory through a CA Secret) that checks the
 * token and serves /api/dcim/devices/ as NetBox does, in pages linked by `next`, and a plain HTTP
 * one that refuses every token. The operator's inventory controller syncs them. Status lists and
 * the created Devices are checked; an entry removed from the inventory is marked gone, not
 * deleted; deleting the inventory deletes its Devices.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Device, DeviceInventory } from '@switchforge/platform/crd';
import { inventoryController } from '@switchforge/operator/inventory/index';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { installCrds, runSourceController } from '../harness/platform-under-test.js';
import { caSecret, loginSecret, namespaceTools } from '../harness/manifests.js';

const ns = `inventory-${randomBytes(3).toString('hex')}`;
const TOKEN = `nb-${randomBytes(8).toString('hex')}`;
let infra: Infra;
const { kubectl, apply, getJson, eventMessages } = namespaceTools(() => infra, ns);
let pki: TestPki;
let netbox: Server;
let refusing: Server;
let netboxUrl: string;
let refusingUrl: string;
const requests: { path: string; authorization: string | undefined }[] = [];
let stopController: () => Promise<void>;

/** A NetBox 4 device as /api/dcim/devices/ lists it (the fields the mapping reads, and some it does not). */
function nbDevice(id: number, name: string | null, ip4: string | null, extra: Record<string, unknown> = {}) {
  return {
    id,
    url: `https://netbox.example.net/api/dcim/devices/${id}/`,
    display: name ?? `Unnamed (${id})`,
    name,
    device_type: {
      id: 1,
      manufacturer: { id: 1, name: 'Arista', slug: 'arista' },
      model: 'DCS-7050',
      slug: 'dcs-7050',
    },
    role: { id: 2, name: 'Leaf', slug: 'leaf' },
    platform: { id: 3, name: 'EOS', slug: 'eos' },
    site: { id: 4, name: 'AMS1', slug: 'ams1' },
    status: { value: 'active', label: 'Active' },
    primary_ip: ip4 === null ? null : { id, family: { value: 4, label: 'IPv4' }, address: ip4 },
    primary_ip4: ip4 === null ? null : { id, family: { value: 4, label: 'IPv4' }, address: ip4 },
    primary_ip6: null,
    tags: [{ id: 1, name: 'Telemetry', slug: 'telemetry', color: '9e9e9e' }],
    ...extra,
  };
}

/** What the stand-in lists; tests change it between syncs. */
let listed = [
  nbDevice(1, 'leaf1', '127.0.0.51/24'),
  nbDevice(2, 'Leaf 2', '127.0.0.52/24'),
  nbDevice(3, 'spine1', null, { primary_ip6: { id: 3, family: { value: 6 }, address: '::1/128' } }),
  nbDevice(4, 'leaf-noip', null),
  nbDevice(5, 'lab1', '127.0.0.55/24', { tags: [] }),
  nbDevice(6, 'leaf6', '127.0.0.56/24', { status: { value: 'planned', label: 'Planned' } }),
];

function serveDevices(req: IncomingMessage, res: ServerResponse, origin: string): void {
  const url = new URL(req.url!, origin);
  requests.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.headers.authorization !== `Token ${TOKEN}`) return reply(401, { detail: 'Invalid token' });
  if (url.pathname !== '/api/dcim/devices/') return reply(404, { detail: 'Not found.' });
  const limit = Number(url.searchParams.get('limit') ?? 50);
  const offset = Number(url.searchParams.get('offset') ?? 0);
  const next = new URL(url);
  next.searchParams.set('offset', String(offset + limit));
  reply(200, {
    count: listed.length,
    next: offset + limit < listed.length ? next.href : null,
    previous: null,
    results: listed.slice(offset, offset + limit),
  });
}

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

const inventory = (name = 'netbox') => getJson<DeviceInventory>('deviceinventory', name);
const devices = async () => (await getJson<{ items: Device[] }>('devices')).items;

function manifest(name: string, url: string, tokenSecret: string, sourceLabel: string): object {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'DeviceInventory',
    metadata: { name, namespace: ns },
    spec: {
      source: {
        url,
        tokenSecretRef: { name: tokenSecret },
        ...(url.startsWith('https:') ? { tls: { caSecretRef: { name: 'netbox-ca' } } } : {}),
      },
      schedule: { every: '10m' },
      timeout: '5s',
      filter: { tags: ['telemetry'] },
      deviceTemplate: { profileRef: { name: 'leaf' }, labels: { source: sourceLabel } },
    },
  };
}

before(async () => {
  infra = await useInfra({ kubernetes: true });
  await installCrds(infra);
  assert.equal((await kubectl('create', 'namespace', ns)).code, 0);
  pki = generateTestPki();
  netbox = createHttpsServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) =>
    serveDevices(req, res, netboxUrl),
  );
  netboxUrl = `https://127.0.0.1:${await listen(netbox)}`;
  refusing = createHttpServer((req, res) => serveDevices(req, res, refusingUrl));
  refusingUrl = `http://127.0.0.1:${await listen(refusing)}`;

  await apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'netbox-token', namespace: ns },
      stringData: { token: TOKEN },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'stale-token', namespace: ns },
      stringData: { token: 'revoked' },
    },
    caSecret({ name: 'netbox-ca', namespace: ns }, pki.ca.cert),
    loginSecret({ name: 'login', namespace: ns }, 'netops', 'inv-secret'),
    {
      apiVersion: 'switchforge.io/v1alpha1',
      kind: 'DeviceProfile',
      metadata: { name: 'leaf', namespace: ns },
      spec: {
        protocol: 'gnmi',
        port: 6030,
        credentials: { secretRef: { name: 'login' } },
        tls: { insecure: true },
      },
    },
  );

  stopController = await runSourceController(infra, ns, (kc, informers, devices) => {
    const { controller, inventories } = inventoryController(kc, informers, devices);
    return { controller, informer: inventories };
  });
});

after(async () => {
  await stopController?.();
  netbox?.close();
  refusing?.close();
  pki?.remove();
  await kubectl('delete', 'namespace', ns, '--wait=false');
  await infra?.stop();
});

describe('a DeviceInventory over a NetBox stand-in on 127.0.0.1', () => {
  test('reads both pages over verified TLS with the token, and lists found, failed and filtered entries', async () => {
    await apply(manifest('netbox', `${netboxUrl}/api/dcim/devices/?limit=3`, 'netbox-token', 'netbox'));
    await waitFor(
      'the first sync',
      async () => (await inventory()).status?.lastSyncTime !== undefined,
      60_000,
    );
    const status = (await inventory()).status!;
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True', ready?.message);
    assert.equal(ready?.reason, 'Synced');
    assert.equal(status.conditions?.find((c) => c.type === 'SyncFailed')?.status, 'False');
    assert.deepEqual(
      status.found?.map((f) => [f.entry, f.address, f.device]),
      [
        ['leaf1', '127.0.0.51', 'leaf1'],
        ['Leaf 2', '127.0.0.52', 'leaf-2'],
        ['spine1', '::1', 'spine1'],
      ],
    );
    assert.deepEqual(
      status.failed?.map((f) => [f.entry, f.reason]),
      [['leaf-noip', 'NoAddress']],
    );
    assert.deepEqual(
      [status.foundCount, status.failedCount, status.filteredCount, status.goneCount, status.pages],
      [3, 1, 2, 0, 2],
    );
    const pages = requests.filter((r) => r.path.startsWith('/api/dcim/devices/'));
    assert.deepEqual(
      pages.map((r) => r.path),
      ['/api/dcim/devices/?limit=3', '/api/dcim/devices/?limit=3&offset=3'],
    );
    assert.ok(pages.every((r) => r.authorization === `Token ${TOKEN}`));

    const columns = await kubectl('get', 'deviceinventory', 'netbox', '-n', ns);
    const [header, row] = columns.stdout.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+FOUND\s+FAILED\s+GONE\s+READY\s+LAST SYNC\s+AGE$/);
    assert.match(row ?? '', /^netbox\s+3\s+1\s+0\s+Synced\s/);
    const events = await eventMessages('netbox', 'Synced');
    assert.match(events, /found 3, failed 1, filtered 2, gone 0 \(2 pages\)/);
  });

  test('creates a Device per entry that takes the rest from its DeviceProfile, labelled from NetBox and owned by the inventory', async () => {
    const byName = new Map((await devices()).map((d) => [d.metadata.name!, d]));
    assert.deepEqual([...byName.keys()].sort(), ['leaf-2', 'leaf1', 'spine1']);
    const leaf = byName.get('leaf1')!;
    assert.deepEqual(leaf.spec, {
      address: '127.0.0.51',
      profileRef: { name: 'leaf' },
      labels: { source: 'netbox', site: 'ams1', role: 'leaf', platform: 'eos' },
    });
    const labels = leaf.metadata.labels!;
    assert.equal(labels['switchforge.io/inventory'], 'netbox');
    assert.equal(labels['inventory.switchforge.io/site'], 'ams1');
    assert.equal(labels['inventory.switchforge.io/role'], 'leaf');
    assert.equal(labels['inventory.switchforge.io/platform'], 'eos');
    assert.equal(labels['inventory.switchforge.io/tag-telemetry'], 'true');
    const owner = (await inventory()).metadata.uid;
    assert.deepEqual(
      leaf.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [['DeviceInventory', 'netbox', owner, true]],
    );
    assert.equal(byName.get('spine1')!.spec.address, '::1');
    const selected = await kubectl(
      'get',
      'devices',
      '-n',
      ns,
      '-l',
      'inventory.switchforge.io/site=ams1',
      '-o',
      'name',
    );
    assert.equal(selected.stdout.trim().split('\n').length, 3);
  });

  test('a refused token fails the sync with Ready False and SyncFailed "token refused", creating nothing', async () => {
    await apply(manifest('stale', `${refusingUrl}/api/dcim/devices/`, 'stale-token', 'stale'));
    await waitFor(
      'the failed sync',
      async () => (await inventory('stale')).status?.lastSyncTime !== undefined,
      60_000,
    );
    const conditions = (await inventory('stale')).status!.conditions!;
    const ready = conditions.find((c) => c.type === 'Ready');
    const failed = conditions.find((c) => c.type === 'SyncFailed');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'TokenRefused']);
    assert.deepEqual([failed?.status, failed?.reason], ['True', 'TokenRefused']);
    assert.match(failed?.message ?? '', /token refused \(HTTP 401\)/);
    assert.ok(!failed?.message.includes('revoked'), 'the token is never in a message');
    assert.equal(
      (await devices()).filter((d) => d.metadata.labels?.['switchforge.io/inventory'] === 'stale').length,
      0,
    );
  });

  test('an https inventory the system roots do not vouch for fails with TLSError; insecureSkipVerify reads it, said explicitly', async () => {
    const tlsOnly = (name: string, tls: object) => {
      const m = manifest(name, `${netboxUrl}/api/dcim/devices/?limit=3`, 'netbox-token', name) as {
        spec: { source: { tls?: object } };
      };
      m.spec.source.tls = tls;
      return m;
    };
    await apply(tlsOnly('untrusted', {}), tlsOnly('unverified', { insecureSkipVerify: true }));
    await waitFor(
      'both syncs',
      async () =>
        (await inventory('untrusted')).status?.lastSyncTime !== undefined &&
        (await inventory('unverified')).status?.lastSyncTime !== undefined,
      60_000,
    );
    const untrusted = (await inventory('untrusted')).status!.conditions!.find((c) => c.type === 'SyncFailed');
    assert.deepEqual([untrusted?.status, untrusted?.reason], ['True', 'TLSError']);
    const unverified = (await inventory('unverified')).status!;
    assert.equal(unverified.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    // The same entries as netbox's: their Devices are that inventory's, so these are left alone.
    assert.deepEqual(unverified.failed?.map((f) => f.reason).sort(), [
      'NameTaken',
      'NameTaken',
      'NameTaken',
      'NoAddress',
    ]);
    assert.equal(unverified.pages, 2);
    for (const name of ['untrusted', 'unverified'])
      assert.equal((await kubectl('delete', 'deviceinventory', name, '-n', ns)).code, 0);
  });

  test('an entry taken out of the inventory is marked gone on the next sync (a spec change syncs at once), not deleted', async () => {
    listed = listed.filter((d) => d.name !== 'Leaf 2');
    await apply(manifest('netbox', `${netboxUrl}/api/dcim/devices/?limit=3`, 'netbox-token', 'netbox-2'));
    await waitFor(
      'a second sync',
      async () => {
        const i = await inventory();
        return i.status?.observedGeneration === i.metadata.generation && i.status?.goneCount === 1;
      },
      60_000,
    );
    const byName = new Map((await devices()).map((d) => [d.metadata.name!, d]));
    const gone = byName.get('leaf-2');
    assert.ok(gone, 'the gone Device is kept');
    assert.match(
      gone.metadata.annotations?.['switchforge.io/inventory-gone-since'] ?? '',
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    assert.equal(
      byName.get('leaf1')!.metadata.annotations?.['switchforge.io/inventory-gone-since'],
      undefined,
    );
    assert.equal(byName.get('leaf1')!.spec.labels?.source, 'netbox-2');
    const status = (await inventory()).status!;
    assert.deepEqual([status.foundCount, status.pages], [2, 2]);
  });

  test('deleting the inventory deletes the Devices it created', async () => {
    assert.equal((await kubectl('delete', 'deviceinventory', 'netbox', '-n', ns)).code, 0);
    await waitFor('the garbage collector', async () => (await devices()).length === 0, 60_000);
  });
});
