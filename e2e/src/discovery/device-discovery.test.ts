/**
 * DeviceDiscovery against a real kube-apiserver and real protocol peers: several simulated switches,
 * each on a loopback address of its own (gNMI and NETCONF answering, one of each refusing the
 * credentials, one port that accepts and never answers, addresses where nothing listens), probed by
 * the operator's discovery controller. Status lists and the created Devices are checked; a switch
 * that goes away is marked missing, not deleted; deleting the discovery deletes its Devices.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Device, DeviceDiscovery } from '@switchforge/platform/crd';
import { discoveryController } from '@switchforge/operator/discovery/index';
import { installCrds, runSourceController } from '../harness/platform-under-test.js';
import { loginSecret, namespaceTools } from '../harness/manifests.js';
import { freePort, useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { startGnmiSimulator, type GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import { startNetconfSimulator, type NetconfSimulator } from '@switchforge/simulators/netconf';

const ns = `discovery-${randomBytes(3).toString('hex')}`;
let infra: Infra;
const { kubectl, apply, getJson, eventMessages } = namespaceTools(() => infra, ns);
const login = { username: 'netops', password: 'disc-secret' };
let gnmiPort: number;
let netconfPort: number;
const gnmi: GnmiSimulator[] = [];
const netconf: NetconfSimulator[] = [];
let silent: Server;
const silentSockets = new Set<Socket>();
let stopController: () => Promise<void>;

const discovery = () => getJson<DeviceDiscovery>('devicediscovery', 'lab');
const devices = async () => (await getJson<{ items: Device[] }>('devices')).items;

function manifest(siteLabel: string): object {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'DeviceDiscovery',
    metadata: { name: 'lab', namespace: ns },
    spec: {
      // .8-.15 as a block, two more on their own.
      targets: ['127.0.0.8/29', '127.0.0.16', '127.0.0.17'],
      probes: [
        { protocol: 'gnmi', port: gnmiPort },
        { protocol: 'netconf', port: netconfPort },
      ],
      credentialsSecretRef: { name: 'login' },
      schedule: { every: '10m' },
      concurrency: 4,
      timeout: '1500ms',
      deviceTemplate: {
        // The simulators speak plaintext gRPC: said explicitly, as the template must.
        tls: { insecure: true },
        ssh: { hostKeySecretRef: { name: 'known-hosts' } },
        labels: { site: siteLabel },
        subscriptions: [
          {
            name: 'counters',
            path: '/interfaces/interface[name=*]/state/counters',
            mode: 'sample',
            sampleInterval: '10s',
          },
          {
            name: 'ifs',
            filter: { type: 'subtree', value: '<interfaces xmlns="http://openconfig.net/yang/interfaces"/>' },
            interval: '60s',
          },
        ],
      },
    },
  };
}

before(async () => {
  infra = await useInfra({ kubernetes: true });
  await installCrds(infra);
  assert.equal((await kubectl('create', 'namespace', ns)).code, 0);
  gnmiPort = await freePort();
  netconfPort = await freePort();
  for (const host of ['127.0.0.11', '127.0.0.12'])
    gnmi.push(await startGnmiSimulator({ host, port: gnmiPort, credentials: login }));
  // Answers, but not to our login.
  gnmi.push(
    await startGnmiSimulator({
      host: '127.0.0.13',
      port: gnmiPort,
      credentials: { ...login, password: 'other' },
    }),
  );
  netconf.push(await startNetconfSimulator({ host: '127.0.0.14', port: netconfPort, ...login }));
  netconf.push(
    await startNetconfSimulator({
      host: '127.0.0.15',
      port: netconfPort,
      username: 'netops',
      password: 'other',
    }),
  );
  // Accepts connections and never says a word.
  silent = createServer((s) => {
    silentSockets.add(s);
    s.on('close', () => silentSockets.delete(s));
  });
  await new Promise<void>((res) => silent.listen(gnmiPort, '127.0.0.16', res));

  const knownHosts = netconf.map((sim, i) => `[127.0.0.${14 + i}]:${netconfPort} ${sim.hostKey}`).join('\n');
  await apply(loginSecret({ name: 'login', namespace: ns }, login.username, login.password), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'known-hosts', namespace: ns },
    stringData: { known_hosts: knownHosts },
  });

  stopController = await runSourceController(infra, ns, (kc, informers, devices) => {
    const { controller, discoveries } = discoveryController(kc, informers, devices);
    return { controller, informer: discoveries };
  });
});

after(async () => {
  await stopController?.();
  for (const s of silentSockets) s.destroy();
  silent?.close();
  await Promise.all([...gnmi, ...netconf].map((s) => s.stop().catch(() => undefined)));
  await kubectl('delete', 'namespace', ns, '--wait=false');
  await infra?.stop();
});

describe('a DeviceDiscovery over simulated switches on loopback addresses', () => {
  test('lists what answered, what refused the credentials and what did not answer, with reasons', async () => {
    await apply(manifest('lab'));
    await waitFor('the first run', async () => (await discovery()).status?.lastRunTime !== undefined, 60_000);
    const status = (await discovery()).status!;
    assert.deepEqual(
      status.found?.map((f) => [f.address, f.protocol, f.port, f.device]),
      [
        ['127.0.0.11', 'gnmi', gnmiPort, '127-0-0-11'],
        ['127.0.0.12', 'gnmi', gnmiPort, '127-0-0-12'],
        ['127.0.0.14', 'netconf', netconfPort, '127-0-0-14'],
      ],
    );
    assert.deepEqual(
      status.refused?.map((r) => [r.address, r.reason]),
      [
        ['127.0.0.13', 'AuthFailed'],
        ['127.0.0.15', 'AuthFailed'],
      ],
    );
    const unreachable = Object.fromEntries(status.unreachable!.map((u) => [u.address, u.reason]));
    assert.deepEqual(unreachable, {
      '127.0.0.8': 'ConnectionRefused',
      '127.0.0.9': 'ConnectionRefused',
      '127.0.0.10': 'ConnectionRefused',
      '127.0.0.16': 'Timeout',
      '127.0.0.17': 'ConnectionRefused',
    });
    assert.match(status.unreachable!.find((u) => u.address === '127.0.0.16')!.message, /gnmi:\d+: Timeout/);
    assert.deepEqual(
      [status.foundCount, status.unreachableCount, status.refusedCount, status.missingCount],
      [3, 5, 2, 0],
    );
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.reason, 'RunSucceeded');

    const columns = await kubectl('get', 'devicediscovery', 'lab', '-n', ns);
    const [header, row] = columns.stdout.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+FOUND\s+UNREACHABLE\s+REFUSED\s+LAST RUN\s+AGE$/);
    assert.match(row ?? '', /^lab\s+3\s+5\s+2\s/);
    const events = await eventMessages('lab', 'DiscoveryRun');
    assert.match(events, /found 3, unreachable 5, refused 2, missing 0/);
  });

  test('creates a Device per answering target, labelled with what it reported and owned by the discovery', async () => {
    const byName = new Map((await devices()).map((d) => [d.metadata.name!, d]));
    assert.deepEqual([...byName.keys()].sort(), ['127-0-0-11', '127-0-0-12', '127-0-0-14']);
    const g = byName.get('127-0-0-11')!;
    assert.equal(g.spec.protocol, 'gnmi');
    assert.equal(g.spec.address, '127.0.0.11');
    assert.deepEqual(g.spec.tls, { insecure: true, skipVerify: false });
    assert.deepEqual(
      g.spec.subscriptions?.map((s) => s.name),
      ['counters'],
    );
    assert.deepEqual(g.spec.labels, { site: 'lab' });
    const labels = g.metadata.labels!;
    assert.equal(labels['switchforge.io/discovery'], 'lab');
    assert.equal(labels['discovery.switchforge.io/gnmi-version'], '0.10.0');
    assert.equal(labels['discovery.switchforge.io/encodings'], 'json.json_ietf.proto');
    assert.equal(labels['discovery.switchforge.io/models-count'], '4');
    assert.match(labels['discovery.switchforge.io/models-hash']!, /^[0-9a-f]{16}$/);
    const owner = (await discovery()).metadata.uid;
    assert.deepEqual(
      g.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [['DeviceDiscovery', 'lab', owner, true]],
    );
    const n = byName.get('127-0-0-14')!;
    assert.equal(n.spec.protocol, 'netconf');
    assert.deepEqual(n.spec.ssh, {
      hostKeySecretRef: { name: 'known-hosts' },
      hostKeyVerification: 'Strict',
    });
    assert.equal(n.spec.tls, undefined);
    assert.deepEqual(
      n.spec.subscriptions?.map((s) => s.name),
      ['ifs'],
    );
    assert.equal(n.metadata.labels!['discovery.switchforge.io/netconf-base'], '1.0-1.1');
    assert.equal(n.metadata.labels!['discovery.switchforge.io/protocol'], 'netconf');
  });

  test('a switch that goes away is marked missing on the next run (a spec change runs at once), not deleted', async () => {
    await gnmi[1]!.stop();
    await apply(manifest('lab-2'));
    await waitFor(
      'a second run',
      async () => {
        const d = await discovery();
        return d.status?.observedGeneration === d.metadata.generation && d.status?.missingCount === 1;
      },
      60_000,
    );
    const byName = new Map((await devices()).map((d) => [d.metadata.name!, d]));
    const gone = byName.get('127-0-0-12');
    assert.ok(gone, 'the missing Device is kept');
    assert.match(
      gone.metadata.annotations?.['switchforge.io/discovery-missing-since'] ?? '',
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    assert.equal(
      byName.get('127-0-0-11')!.metadata.annotations?.['switchforge.io/discovery-missing-since'],
      undefined,
    );
    assert.deepEqual(byName.get('127-0-0-11')!.spec.labels, { site: 'lab-2' });
    const status = (await discovery()).status!;
    assert.equal(status.foundCount, 2);
    assert.ok(
      status.unreachable?.some((u) => u.address === '127.0.0.12' && u.reason === 'ConnectionRefused'),
    );
  });

  test('deleting the discovery deletes the Devices it created', async () => {
    assert.equal((await kubectl('delete', 'devicediscovery', 'lab', '-n', ns)).code, 0);
    await waitFor('the garbage collector', async () => (await devices()).length === 0, 60_000);
  });
});
