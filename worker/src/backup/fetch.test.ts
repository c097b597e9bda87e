import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGnmiSimulator, type GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import { startNetconfSimulator, type NetconfSimulator } from '@switchforge/simulators/netconf';
import { CollectorError } from '../device/sample.js';
import { failureReason, fetchRunningConfig } from './fetch.js';
import { normalizeConfig } from './normalize.js';
import { closedPort, testDevice } from './test-support.js';

const reasonIs = (reason: string) => (e: unknown) => {
  assert.equal(failureReason(e), reason, String(e));
  return true;
};

describe('fetchRunningConfig over NETCONF (simulator)', () => {
  let sim: NetconfSimulator;
  before(async () => {
    sim = await startNetconfSimulator({ interfaces: 2 });
  });
  after(() => sim?.stop());

  const secrets = () => ({ username: 'admin', password: 'admin', hostKey: sim.hostKey });

  it('gets the running configuration as XML on a short session of its own, and closes it', async () => {
    const device = testDevice('nc1', { protocol: 'netconf', port: sim.port });
    const before = sim.stats();
    const fetched = await fetchRunningConfig(device, secrets());
    assert.equal(fetched.format, 'xml');
    assert.match(fetched.content, /^<data[ >]/);
    assert.match(fetched.content, /<name>Ethernet2<\/name>/);
    const stats = sim.stats();
    assert.equal(stats.sessions - before.sessions, 1);
    assert.equal((stats.rpcs['get-config'] ?? 0) - (before.rpcs['get-config'] ?? 0), 1);
    assert.equal(stats.closeSessions - before.closeSessions, 1);
  });

  it('sees the same configuration twice as the same hash, and a changed one as another', async () => {
    const device = testDevice('nc1', { protocol: 'netconf', port: sim.port });
    const a = normalizeConfig(await fetchRunningConfig(device, secrets()));
    const b = normalizeConfig(await fetchRunningConfig(device, secrets()));
    sim.setInterfaces(3);
    const c = normalizeConfig(await fetchRunningConfig(device, secrets()));
    sim.setInterfaces(2);
    assert.equal(a.hash, b.hash);
    assert.notEqual(c.hash, a.hash);
  });

  it('fails with AuthFailed for wrong credentials and HostKeyMismatch for another host key', async () => {
    const device = testDevice('nc1', { protocol: 'netconf', port: sim.port });
    await assert.rejects(
      fetchRunningConfig(device, { ...secrets(), password: 'wrong' }),
      reasonIs('AuthFailed'),
    );
    const other = await startNetconfSimulator();
    try {
      await assert.rejects(
        fetchRunningConfig(device, { ...secrets(), hostKey: other.hostKey }),
        reasonIs('HostKeyMismatch'),
      );
    } finally {
      await other.stop();
    }
  });

  it('fails with Unreachable when nothing listens', async () => {
    const device = testDevice('nc1', { protocol: 'netconf', port: await closedPort() });
    await assert.rejects(
      fetchRunningConfig(device, secrets()),
      (e: unknown) => e instanceof CollectorError && e.reason === 'Unreachable',
    );
  });
});

describe('fetchRunningConfig over gNMI (simulator)', () => {
  let sim: GnmiSimulator;
  before(async () => {
    sim = await startGnmiSimulator({ interfaces: 2, credentials: { username: 'admin', password: 'secret' } });
  });
  after(() => sim?.stop());

  // The simulator answers Get with its whole tree whatever the data type asked for (it has no
  // config/state split), so this proves the request, the JSON_IETF decoding and the merge.
  it('gets the data tree at / as one JSON document', async () => {
    const device = testDevice('gn1', { protocol: 'gnmi', port: sim.port, tls: { insecure: true } });
    const fetched = await fetchRunningConfig(device, { username: 'admin', password: 'secret' });
    assert.equal(fetched.format, 'json');
    const doc = JSON.parse(fetched.content) as { interfaces: { interface: Array<{ name: string }> } };
    assert.deepEqual(
      doc.interfaces.interface.map((i) => i.name),
      ['Ethernet0', 'Ethernet1'],
    );
    const again = await fetchRunningConfig(device, { username: 'admin', password: 'secret' });
    assert.equal(normalizeConfig(again).hash, normalizeConfig(fetched).hash);
  });

  it('fails with AuthFailed for wrong credentials and Unreachable when nothing listens', async () => {
    const device = testDevice('gn1', { protocol: 'gnmi', port: sim.port, tls: { insecure: true } });
    await assert.rejects(
      fetchRunningConfig(device, { username: 'admin', password: 'nope' }),
      reasonIs('AuthFailed'),
    );
    const gone = testDevice('gn1', { protocol: 'gnmi', port: await closedPort(), tls: { insecure: true } });
    await assert.rejects(
      fetchRunningConfig(gone, { username: 'admin', password: 'secret' }),
      reasonIs('Unreachable'),
    );
  });
});
