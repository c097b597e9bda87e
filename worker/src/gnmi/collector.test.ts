/**
 * GnmiCollector against the gNMI simulator over loopback: security modes, subscription modes,
 * and each way a target misbehaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePath } from '@switchforge/platform/gnmi/paths';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import {
  startGnmiSimulator,
  type GnmiSimulator,
  type GnmiSimulatorOptions,
} from '@switchforge/simulators/gnmi/server';
import type { CollectorHandlers, Sample, SessionState } from '../device/sample.js';
import { CollectorError } from '../device/sample.js';
import { GnmiClient } from './client.js';
import { GnmiCollector, type GnmiCollectorConfig } from './collector.js';

interface Recorder extends CollectorHandlers {
  samples: Sample[];
  states: SessionState[];
  malformed: Error[];
  batches: number;
}

function recorder(onBatch?: (r: Recorder) => void): Recorder {
  const r: Recorder = {
    samples: [],
    states: [],
    malformed: [],
    batches: 0,
    onSamples: (s) => {
      r.samples.push(...s);
      r.batches++;
      onBatch?.(r);
    },
    onState: (s) => r.states.push(s),
    onMalformed: (e) => r.malformed.push(e),
  };
  return r;
}

const COUNTERS = '/interfaces/interface[name=Ethernet1]/state/counters';

/** Runs the collector until `until` holds (then aborts) or it fails; returns what it saw. */
async function collect(
  config: GnmiCollectorConfig,
  until: (r: Recorder) => boolean = () => false,
  timeoutMs = 8000,
): Promise<{ r: Recorder; error: CollectorError | undefined }> {
  const ac = new AbortController();
  const r = recorder((rec) => {
    if (until(rec)) ac.abort();
  });
  const collector = new GnmiCollector(config);
  const guard = setTimeout(() => ac.abort(), timeoutMs);
  try {
    await collector.run(r, ac.signal);
    return { r, error: undefined };
  } catch (e) {
    assert.ok(e instanceof CollectorError, `expected CollectorError, got ${String(e)}`);
    return { r, error: e };
  } finally {
    clearTimeout(guard);
    collector.close();
  }
}

describe('GnmiCollector against the simulator', () => {
  let pki: TestPki;
  const sims: GnmiSimulator[] = [];
  const start = async (o: GnmiSimulatorOptions) => {
    const s = await startGnmiSimulator({ devices: 2, interfaces: 4, ...o });
    sims.push(s);
    return s;
  };
  const base = (sim: GnmiSimulator, extra: Partial<GnmiCollectorConfig> = {}): GnmiCollectorConfig => ({
    address: '127.0.0.1',
    port: sim.port,
    tls: { mode: 'insecure' },
    deviceName: 'lab/device-1',
    target: 'device-1',
    encoding: 'proto',
    subscriptions: [{ path: COUNTERS, mode: 'sample', sampleInterval: 50 }],
    ...extra,
  });

  before(() => {
    pki = generateTestPki();
  });
  after(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    pki.remove();
  });

  it('streams sampled counters over an explicitly insecure channel, keys as labels', async () => {
    const sim = await start({});
    const { r, error } = await collect(base(sim), (rec) => rec.batches >= 3);
    assert.equal(error, undefined);
    assert.deepEqual(r.states[0], { state: 'connecting' });
    assert.equal(r.states[1]?.state, 'connected');
    const s = r.samples[0]!;
    assert.equal(s.device, 'lab/device-1');
    assert.equal(s.path, '/interfaces/interface/state/counters/in-octets');
    assert.deepEqual(s.labels, { name: 'Ethernet1' });
    assert.equal(typeof s.value, 'number');
    assert.ok(s.timestampNs > 1_600_000_000_000_000_000n);
    // Counters grow between samples of the same leaf.
    const inOctets = r.samples.filter((x) => x.path.endsWith('/in-octets')).map((x) => x.value as number);
    assert.ok(inOctets.length >= 3 && inOctets[2]! > inOctets[0]!);
  });

  it('picks the device by target name', async () => {
    const sim = await start({});
    const client = new GnmiClient({ address: '127.0.0.1', port: sim.port, tls: { mode: 'insecure' } });
    try {
      const res = await client.get({
        prefix: { target: 'device-0' },
        path: [parsePath('/system/memory/state/physical')],
        encoding: 2,
      });
      assert.equal(res.notification?.[0]?.update?.length, 1);
      const caps = await client.capabilities();
      assert.equal(caps.gNMI_version, '0.10.0');
      await assert.rejects(client.get({ prefix: { target: 'nope' }, path: [] }), /NOT_FOUND/);
    } finally {
      client.close();
    }
  });

  it('connects with TLS, verifying the server against the CA', async () => {
    const sim = await start({ tls: { cert: pki.server.cert, key: pki.server.key } });
    const { r, error } = await collect(
      base(sim, { tls: { mode: 'tls', ca: pki.ca.cert } }),
      (rec) => rec.batches >= 1,
    );
    assert.equal(error, undefined);
    assert.ok(r.samples.length > 0);
  });

  it('connects with mutual TLS and a serverName override', async () => {
    const sim = await start({ tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert } });
    const tls = {
      mode: 'tls' as const,
      ca: pki.ca.cert,
      cert: pki.client.cert,
      key: pki.client.key,
      serverName: 'localhost',
    };
    const ok = await collect(base(sim, { tls }), (rec) => rec.batches >= 1);
    assert.equal(ok.error, undefined);
    assert.ok(ok.r.samples.length > 0);
    const noClientCert = await collect(base(sim, { tls: { mode: 'tls', ca: pki.ca.cert } }));
    assert.ok(noClientCert.error, 'a client without certificate must be refused');
    assert.match(noClientCert.error.reason, /TLSError|Unreachable/);
  });

  it('reports TLSError when the target presents an untrusted certificate, unless skipVerify is set', async () => {
    const sim = await start({
      tls: {
        cert: pki.server.cert,
        key: pki.server.key,
        untrusted: { cert: pki.rogue.cert, key: pki.rogue.key },
      },
    });
    await sim.setMisbehaviour({ untrustedCert: true });
    const { error, r } = await collect(base(sim, { tls: { mode: 'tls', ca: pki.ca.cert } }));
    assert.equal(error?.reason, 'TLSError', error?.message);
    assert.deepEqual(r.states.at(-1), { state: 'failed', reason: 'TLSError', message: error.message });
    // Only the Device's explicit skipVerify accepts that certificate.
    const skipped = await collect(
      base(sim, { tls: { mode: 'tls', skipVerify: true } }),
      (rec) => rec.batches >= 1,
    );
    assert.equal(skipped.error, undefined);
    assert.ok(skipped.r.samples.length > 0);
  });

  it('sends username and password metadata, and reports AuthFailed when they are wrong or refused', async () => {
    const sim = await start({ credentials: { username: 'admin', password: 's3cret' } });
    const good = await collect(
      base(sim, { credentials: { username: 'admin', password: 's3cret' } }),
      (rec) => rec.batches >= 1,
    );
    assert.equal(good.error, undefined);
    const bad = await collect(base(sim, { credentials: { username: 'admin', password: 'wrong' } }));
    assert.equal(bad.error?.reason, 'AuthFailed');
    await sim.setMisbehaviour({ refuseCredentials: true });
    const refused = await collect(
      base(sim, { credentials: { username: 'admin', password: 's3cret' }, capabilities: false }),
    );
    assert.equal(refused.error?.reason, 'AuthFailed');
  });

  it('reports Unreachable when nothing listens', async () => {
    const sim = await start({});
    const port = sim.port;
    await sim.stop();
    const { error } = await collect({ ...base(sim), port });
    assert.equal(error?.reason, 'Unreachable');
    // The message ends with the cause, not grpc-js's empty "Resolution note: ".
    assert.match(error.message, /^UNAVAILABLE: .*ECONNREFUSED 127\.0\.0\.1:\d+$/, error.message);
  });

  it('reports SubscriptionRejected for an encoding the target does not serve', async () => {
    const sim = await start({});
    const { error } = await collect(base(sim, { encoding: 'ascii' }));
    assert.equal(error?.reason, 'SubscriptionRejected', error?.message);
    assert.match(
      error.message,
      /^the switch rejected the subscription to \/\S+: UNIMPLEMENTED: encoding ASCII is not supported$/,
    );
  });

  it('polls: a sync per poll, values refreshed each time', async () => {
    const sim = await start({});
    const { r, error } = await collect(
      base(sim, { mode: 'poll', pollInterval: 50 }),
      (rec) => rec.batches >= 3,
    );
    assert.equal(error, undefined);
    assert.equal(r.samples.length, 3 * 5, 'five counters per poll');
    const inOctets = r.samples.filter((x) => x.path.endsWith('/in-octets')).map((x) => x.value as number);
    assert.ok(
      inOctets[0]! < inOctets[1]! && inOctets[1]! < inOctets[2]!,
      `in-octets per poll: ${inOctets.join(',')}`,
    );
  });

  it('once: collects one snapshot and resolves on sync_response', async () => {
    const sim = await start({});
    const { r, error } = await collect(
      base(sim, {
        mode: 'once',
        encoding: 'json_ietf',
        subscriptions: [{ path: '/system/memory' }, { path: '/components/component[name=CPU0]' }],
      }),
    );
    assert.equal(error, undefined);
    assert.deepEqual(r.samples.map((s) => s.path).sort(), [
      '/components/component/cpu/utilization/state/avg',
      '/components/component/cpu/utilization/state/instant',
      '/system/memory/state/physical',
      '/system/memory/state/used',
    ]);
    assert.equal(typeof r.samples[0]!.value, 'string', 'JSON_IETF carries 64-bit integers as strings');
  });

  it('streams on-change state (BGP session, oper-status) as it flaps', async () => {
    const sim = await start({ changeIntervalMs: 30 });
    const { r } = await collect(
      base(sim, {
        subscriptions: [
          {
            path: '/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state',
            mode: 'on_change',
          },
        ],
      }),
      (rec) => rec.batches >= 4,
    );
    const states = new Set(r.samples.map((s) => s.value));
    assert.ok(states.has('ESTABLISHED') && states.size >= 2, `saw ${[...states].join(',')}`);
    assert.ok(r.samples.every((s) => s.labels['neighbor-address']?.startsWith('192.0.2.')));
  });

  it('counts malformed updates and corrupt messages, and keeps the stream going', async () => {
    const sim = await start({ misbehaviour: { malformed: true } });
    const { r, error } = await collect(base(sim), (rec) => rec.batches >= 3);
    assert.equal(error, undefined);
    assert.ok(r.malformed.length >= 6, `malformed: ${r.malformed.length}`);
    assert.ok(r.malformed.some((e) => /not valid JSON/.test(e.message)));
    assert.ok(r.malformed.some((e) => /index out of range|invalid wire type/i.test(e.message)));
    assert.ok(r.samples.filter((s) => s.path.endsWith('/in-octets')).length >= 3);
  });

  it('handles field quirks: float32 bytes, deprecated elements, out-of-order timestamps, branch deletes', async () => {
    const sim = await start({
      misbehaviour: {
        float32Bytes: true,
        deprecatedElements: true,
        outOfOrderTimestamps: true,
        branchDeletes: true,
      },
    });
    const { r, error } = await collect(
      base(sim, {
        subscriptions: [
          {
            path: '/components/component[name=TempSensor0]/state/temperature/instant',
            mode: 'sample',
            sampleInterval: 30,
          },
        ],
      }),
      (rec) => rec.batches >= 4,
    );
    assert.equal(error, undefined);
    const temps = r.samples.filter((s) => s.value !== undefined);
    assert.ok(
      temps.every(
        (s) =>
          s.path === '/components/component/state/temperature/instant' && s.labels.name === 'TempSensor0',
      ),
    );
    assert.ok(temps.every((s) => typeof s.value === 'number' && Math.abs((s.value as number) - 41.5) < 10));
    const deletes = r.samples.filter((s) => s.value === undefined);
    assert.ok(
      deletes.length >= 3 &&
        deletes.every((s) => s.path === '/interfaces/interface' && /^Ethernet\d$/.test(s.labels.name!)),
    );
    const ts = temps.map((s) => s.timestampNs);
    assert.ok(
      ts.some((t, i) => i > 0 && t < ts[i - 1]!),
      'timestamps kept as sent, out of order',
    );
  });

  it('reports Unreachable when the target drops the stream', async () => {
    const sim = await start({});
    const ac = new AbortController();
    const r = recorder((rec) => {
      if (rec.batches === 2) void sim.setMisbehaviour({ dropStream: true });
    });
    const c = new GnmiCollector(base(sim));
    await assert.rejects(
      c.run(r, ac.signal),
      (e: unknown) => e instanceof CollectorError && e.reason === 'Unreachable',
    );
    c.close();
  });

  it('reports Timeout when the target stalls', async () => {
    const sim = await start({});
    const r = recorder((rec) => {
      if (rec.batches === 2) void sim.setMisbehaviour({ stall: true });
    });
    const c = new GnmiCollector(base(sim, { stallTimeoutMs: 300 }));
    const t0 = Date.now();
    await assert.rejects(
      c.run(r, new AbortController().signal),
      (e: unknown) => e instanceof CollectorError && e.reason === 'Timeout',
    );
    assert.ok(Date.now() - t0 < 3000);
    c.close();
  });

  it('reports Unreachable when the target sends GOAWAY too_many_pings, and collects again on the next run', async () => {
    const sim = await start({});
    const c = new GnmiCollector(base(sim));
    const r = recorder((rec) => {
      if (rec.batches === 2) void sim.setMisbehaviour({ tooManyPings: true });
    });
    await assert.rejects(
      c.run(r, new AbortController().signal),
      (e: unknown) => e instanceof CollectorError && e.reason === 'Unreachable',
    );
    await sim.setMisbehaviour({ tooManyPings: false });
    const ac = new AbortController();
    const again = recorder((rec) => rec.batches >= 2 && ac.abort());
    await c.run(again, ac.signal);
    assert.ok(again.samples.length > 0);
    c.close();
  });
});
