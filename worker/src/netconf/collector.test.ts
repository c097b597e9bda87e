import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  generateSshKeyPair,
  startNetconfSimulator,
  type NetconfSimulator,
} from '@switchforge/simulators/netconf';
import { CollectorError, type Sample, type SessionState } from '../device/sample.js';
import { NetconfCollector, type NetconfCollectorConfig } from './collector.js';

interface Run {
  readonly samples: Sample[];
  readonly states: SessionState[];
  readonly malformed: Error[];
  readonly done: Promise<CollectorError | undefined>;
  stop(): Promise<CollectorError | undefined>;
  collector: NetconfCollector;
}

function start(config: NetconfCollectorConfig): Run {
  const samples: Sample[] = [];
  const states: SessionState[] = [];
  const malformed: Error[] = [];
  const abort = new AbortController();
  const collector = new NetconfCollector(config);
  const done = collector
    .run(
      {
        onSamples: (s) => samples.push(...s),
        onState: (s) => states.push(s),
        onMalformed: (e) => malformed.push(e),
      },
      abort.signal,
    )
    .then(
      () => undefined,
      (e: unknown) => {
        assert.ok(e instanceof CollectorError, `rejected with ${String(e)}`);
        return e;
      },
    );
  return { samples, states, malformed, done, collector, stop: () => (abort.abort(), done) };
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('NetconfCollector against the simulator', () => {
  let sim: NetconfSimulator;
  const clientKey = generateSshKeyPair();
  const base = (): NetconfCollectorConfig => ({
    deviceName: 'lab/sw1',
    address: '127.0.0.1',
    port: sim.port,
    username: 'admin',
    password: 'admin',
    hostKey: sim.hostKey,
    subscriptions: [
      {
        source: 'get',
        intervalMs: 100,
        filter: { type: 'subtree', value: '<interfaces xmlns="http://openconfig.net/yang/interfaces"/>' },
      },
    ],
    session: { rpcTimeoutMs: 3000, connectTimeoutMs: 3000 },
  });

  before(async () => {
    sim = await startNetconfSimulator({ interfaces: 3, authorizedKey: clientKey.public });
  });
  after(async () => sim.stop());

  it('collects rows over base:1.1 and sends close-session when stopped', async () => {
    sim.setMisbehaviour({ kind: 'none' });
    const closesBefore = sim.stats().closeSessions;
    const run = start(base());
    await until('samples', () => run.samples.length >= 45);
    assert.deepEqual(run.states.map((s) => s.state).slice(0, 2), ['connecting', 'connected']);
    const mtu = run.samples.find(
      (s) => s.path === '/interfaces/interface/config/mtu' && s.labels.name === 'Ethernet2',
    );
    assert.equal(mtu?.value, 9100);
    assert.equal(mtu?.device, 'lab/sw1');
    assert.equal(
      run.samples.find((s) => s.path === '/interfaces/interface/config/description')?.value,
      'port 1 & uplink',
    );
    assert.match(sim.stats().lastRequest ?? '', /<filter type="subtree"><interfaces/);
    assert.equal(await run.stop(), undefined);
    await until('close-session', () => sim.stats().closeSessions === closesBefore + 1);
  });

  it('speaks end-of-message framing to a base:1.0-only server', async () => {
    const old = await startNetconfSimulator({ interfaces: 2, baseVersions: ['1.0'] });
    try {
      const run = start({ ...base(), port: old.port, hostKey: old.hostKey });
      await until('samples', () => run.samples.length >= 30);
      assert.equal(await run.stop(), undefined);
    } finally {
      await old.stop();
    }
  });

  it('authenticates with a private key', async () => {
    const { password: _unused, ...rest } = base();
    const run = start({ ...rest, privateKey: clientKey.private });
    await until('samples', () => run.samples.length > 0);
    assert.equal(await run.stop(), undefined);
  });

  it('rejects a server whose host key differs from the pinned one, by default', async () => {
    const other = generateSshKeyPair().public;
    const err = await start({ ...base(), hostKey: other }).done;
    assert.equal(err?.reason, 'HostKeyMismatch');
    const { hostKey: _unused, ...unpinned } = base();
    assert.equal((await start(unpinned).done)?.reason, 'HostKeyMismatch');
  });

  it('connects without a pinned key only when verification is explicitly disabled', async () => {
    const { hostKey: _unused, ...unpinned } = base();
    const run = start({ ...unpinned, hostKeyVerification: 'disabled' });
    await until('samples', () => run.samples.length > 0);
    assert.equal(await run.stop(), undefined);
  });

  it('fails with AuthFailed on bad credentials', async () => {
    const err = await start({ ...base(), password: 'wrong' }).done;
    assert.equal(err?.reason, 'AuthFailed');
  });

  it('fails with Unreachable when nothing listens', async () => {
    const err = await start({ ...base(), port: 1 }).done;
    assert.equal(err?.reason, 'Unreachable');
  });

  it('skips ticks while a slow reply is outstanding and never has two RPCs in flight', async () => {
    sim.setMisbehaviour({ kind: 'slow', delayMs: 350 });
    const before = sim.stats().rpcs.get ?? 0;
    const run = start({
      ...base(),
      subscriptions: [
        { source: 'get', intervalMs: 50 },
        { source: 'get-config', intervalMs: 50 },
      ],
    });
    await sleep(1200);
    // Read before stopping: close-session may legitimately go out while a poll is unanswered.
    const maxOutstanding = sim.stats().maxOutstanding;
    sim.setMisbehaviour({ kind: 'none' });
    assert.equal(await run.stop(), undefined);
    const gets = (sim.stats().rpcs.get ?? 0) - before;
    // 1200 ms at 50 ms would be 24 polls; each round trip takes 350 ms and the two alternate.
    assert.ok(gets >= 1 && gets <= 3, `${gets} gets`);
    assert.equal(maxOutstanding, 1);
    assert.ok(run.samples.length > 0);
  });

  it('counts a malformed reply and goes on collecting', async () => {
    sim.setMisbehaviour({ kind: 'malformed-xml' });
    const run = start(base());
    await until('a malformed report', () => run.malformed.length > 0);
    sim.setMisbehaviour({ kind: 'none' });
    await until('samples after recovery', () => run.samples.length >= 45);
    assert.equal(run.malformed[0]?.name, 'MalformedMessageError');
    assert.equal(await run.stop(), undefined);
  });

  it('reports a transient rpc-error and goes on, but fails a rejected request with SubscriptionRejected', async () => {
    sim.setMisbehaviour({ kind: 'rpc-error', errorTag: 'resource-denied' });
    const run = start(base());
    await until('an rpc-error report', () => run.malformed.length > 0);
    assert.equal((run.malformed[0] as { errorTag?: string }).errorTag, 'resource-denied');
    assert.equal(await run.stop(), undefined);
    sim.setMisbehaviour({ kind: 'rpc-error', errorTag: 'invalid-value' });
    assert.equal((await start(base()).done)?.reason, 'SubscriptionRejected');
    sim.setMisbehaviour({ kind: 'none' });
  });

  it('fails with ProtocolError on a framing error, and the next session works', async () => {
    sim.setMisbehaviour({ kind: 'framing-error' });
    const err = await start(base()).done;
    assert.equal(err?.reason, 'ProtocolError');
    assert.match(err?.message ?? '', /framing/);
    sim.setMisbehaviour({ kind: 'none' });
    const run = start(base());
    await until('samples', () => run.samples.length > 0);
    assert.equal(await run.stop(), undefined);
  });

  it('fails with ProtocolError when the server closes in the middle of a reply', async () => {
    sim.setMisbehaviour({ kind: 'close-mid-reply' });
    const run = start(base());
    const err = await run.done;
    sim.setMisbehaviour({ kind: 'none' });
    assert.equal(err?.reason, 'ProtocolError');
    assert.deepEqual(run.states.at(-1), { state: 'failed', reason: 'ProtocolError', message: err?.message });
  });

  it('fails with Timeout when a reply never comes within the RPC deadline', async () => {
    sim.setMisbehaviour({ kind: 'slow', delayMs: 1500 });
    const err = await start({ ...base(), session: { rpcTimeoutMs: 300 } }).done;
    sim.setMisbehaviour({ kind: 'none' });
    assert.equal(err?.reason, 'Timeout');
  });

  it('subscribes to notifications and turns events into rows stamped with eventTime', async () => {
    const run = start(base());
    await until('subscription', () => run.samples.length > 0 && sim.stats().subscriptions > 0);
    sim.notify(
      '<link-state xmlns="urn:x"><interface><name>Ethernet9</name><oper-status>DOWN</oper-status></interface></link-state>',
    );
    await until('notification rows', () =>
      run.samples.some((s) => s.path === '/link-state/interface/oper-status'),
    );
    const row = run.samples.find((s) => s.path === '/link-state/interface/oper-status');
    assert.deepEqual(row?.labels, { name: 'Ethernet9' });
    assert.ok(row && row.timestampNs % 1_000_000n === 0n && row.timestampNs > 1_600_000_000_000_000_000n);
    assert.equal(await run.stop(), undefined);
  });

  it('fetches the running configuration for a backup', async () => {
    const run = start(base());
    await until('connected', () => run.states.some((s) => s.state === 'connected'));
    const xml = await run.collector.getRunningConfig();
    assert.match(
      xml,
      /^<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><interfaces xmlns="http:\/\/openconfig.net\/yang\/interfaces"><interface><name>Ethernet1<\/name>/,
    );
    assert.match(xml, /<\/data>$/);
    assert.equal(await run.stop(), undefined);
  });
});
