/**
 * GnmiCollector against a gNMI target written by others: openconfig/gnmi's fake agent
 * (testing/fake/gnmi/cmd/fake_server, grpc-go), built from its Go module by
 * e2e/infra/build-binaries.sh. It requires TLS, serves Subscribe only, and its `fixed`
 * generator replays the SubscribeResponses written below in its text config.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import { CollectorError, type Sample } from '../device/sample.js';
import { GnmiCollector, type GnmiCollectorConfig } from './collector.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const binary = path.join(
  process.env.SWITCHFORGE_CACHE ?? path.join(homedir(), '.cache/switchforge'),
  'bin/gnmi-fake-server',
);

function ensureBinary(): string | undefined {
  if (existsSync(binary)) return undefined;
  const build = spawnSync('bash', [path.join(repoRoot, 'e2e/infra/build-binaries.sh'), 'gnmi-fake'], {
    encoding: 'utf8',
  });
  if (build.status === 0 && existsSync(binary)) return undefined;
  return `gnmi-fake-server is absent and its build failed: ${(build.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
}
const skipReason = ensureBinary();

const elems = (...names: string[]) => names.map((n) => `elem { name: "${n}" }`).join(' ');
const IFACE1 = `elem { name: "interfaces" } elem { name: "interface" key { key: "name" value: "Ethernet1" } }`;

/** What the fake agent replays: shaped like an Arista/Nokia stream, quirks included. */
const FIXED_CONFIG = `
target: "fake-leaf"
client_type: GRPC_GNMI
disable_eof: true
fixed {
  responses {
    update {
      timestamp: 1700000000123456789
      prefix { origin: "openconfig" ${IFACE1} }
      update { path { ${elems('state', 'counters', 'in-octets')} } val { uint_val: 18446744073709551000 } }
      update { path { ${elems('state', 'oper-status')} } val { string_val: "UP" } }
      update { path { ${elems('state')} } val { json_ietf_val: "{\\"openconfig-interfaces:mtu\\": 9214, \\"counters\\": {\\"in-errors\\": \\"3\\"}}" } }
    }
  }
  responses {
    update {
      timestamp: 1700000000100000000
      update { path { ${elems('components')} elem { name: "component" key { key: "name" value: "TempSensor0" } } ${elems('state', 'temperature', 'instant')} } val { bytes_val: "\\x42\\x28\\x00\\x00" } }
      update { path { element: "system" element: "memory" element: "state" element: "used" } val { uint_val: 6442450944 } }
    }
  }
  responses {
    update {
      timestamp: 1700000000200000000
      delete { elem { name: "interfaces" } elem { name: "interface" key { key: "name" value: "Ethernet2" } } }
    }
  }
  responses { sync_response: true }
}
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`fake agent did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GnmiCollector against openconfig/gnmi fake agent', { skip: skipReason }, () => {
  let pki: TestPki;
  const agents: ChildProcess[] = [];

  async function startAgent(extraFlags: string[]): Promise<number> {
    const port = await freePort();
    const config = path.join(pki.dir, `fake-${port}.textproto`);
    writeFileSync(config, FIXED_CONFIG);
    const child = spawn(
      binary,
      [
        '-config',
        config,
        '-text',
        '-port',
        String(port),
        '-server_crt',
        pki.server.certFile,
        '-server_key',
        pki.server.keyFile,
        ...extraFlags,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    agents.push(child);
    await waitForPort(port);
    return port;
  }

  const config = (port: number, extra: Partial<GnmiCollectorConfig> = {}): GnmiCollectorConfig => ({
    address: '127.0.0.1',
    port,
    tls: { mode: 'tls', ca: pki.ca.cert, serverName: 'localhost' },
    deviceName: 'lab/fake-leaf',
    target: 'fake-leaf',
    subscriptions: [{ path: '/', mode: 'on_change' }],
    ...extra,
  });

  before(() => {
    pki = generateTestPki();
  });
  after(() => {
    for (const a of agents) a.kill('SIGTERM');
    pki.remove();
  });

  it('decodes the replayed stream into samples, quirks included', async () => {
    const port = await startAgent(['-allow_no_client_auth']);
    const samples: Sample[] = [];
    const states: string[] = [];
    const malformed: Error[] = [];
    const ac = new AbortController();
    const c = new GnmiCollector(config(port));
    const guard = setTimeout(() => ac.abort(), 10_000);
    await c.run(
      {
        onSamples: (s) => {
          samples.push(...s);
          if (samples.length >= 7) ac.abort();
        },
        onState: (s) => states.push(s.state),
        onMalformed: (e) => malformed.push(e),
      },
      ac.signal,
    );
    clearTimeout(guard);
    c.close();
    assert.deepEqual(states, ['connecting', 'connected']);
    assert.deepEqual(malformed, []);
    const eth1 = { name: 'Ethernet1' };
    const t0 = 1700000000123456789n;
    const s = (
      p: string,
      labels: Record<string, string>,
      value: Sample['value'],
      timestampNs: bigint,
    ): Sample => ({
      device: 'lab/fake-leaf',
      path: p,
      labels,
      timestampNs,
      value,
    });
    assert.deepEqual(samples, [
      s('/interfaces/interface/state/counters/in-octets', eth1, '18446744073709551000', t0),
      s('/interfaces/interface/state/oper-status', eth1, 'UP', t0),
      s('/interfaces/interface/state/mtu', eth1, 9214, t0),
      s('/interfaces/interface/state/counters/in-errors', eth1, '3', t0),
      s('/components/component/state/temperature/instant', { name: 'TempSensor0' }, 42, 1700000000100000000n),
      s('/system/memory/state/used', {}, 6442450944, 1700000000100000000n),
      s('/interfaces/interface', { name: 'Ethernet2' }, undefined, 1700000000200000000n),
    ]);
  });

  it('authenticates with a client certificate when the agent requires mutual TLS', async () => {
    const port = await startAgent(['-ca_crt', pki.ca.certFile]);
    const run = async (tls: GnmiCollectorConfig['tls']) => {
      const ac = new AbortController();
      const c = new GnmiCollector(config(port, { tls, mode: 'once' }));
      let n = 0;
      setTimeout(() => ac.abort(), 10_000).unref();
      try {
        await c.run(
          { onSamples: (s) => (n += s.length), onState: () => {}, onMalformed: () => {} },
          ac.signal,
        );
        return n;
      } finally {
        c.close();
      }
    };
    assert.equal(
      await run({
        mode: 'tls',
        ca: pki.ca.cert,
        cert: pki.client.cert,
        key: pki.client.key,
        serverName: 'localhost',
      }),
      7,
    );
    await assert.rejects(
      run({ mode: 'tls', ca: pki.ca.cert, serverName: 'localhost' }),
      (e: unknown) => e instanceof CollectorError && e.reason === 'TLSError',
    );
  });

  it('answers a grpc-go GOAWAY too_many_pings with Unreachable, and grpc-js backs off its keepalive', async () => {
    const port = await startAgent(['-allow_no_client_auth']);
    const c = new GnmiCollector(config(port, { keepaliveMs: 500 }));
    const logged: string[] = [];
    grpc.setLogger({ error: (...args: unknown[]) => logged.push(args.join(' ')) });
    const t0 = Date.now();
    try {
      await assert.rejects(
        c.run(
          { onSamples: () => {}, onState: () => {}, onMalformed: () => {} },
          new AbortController().signal,
        ),
        (e: unknown) => e instanceof CollectorError && e.reason === 'Unreachable',
      );
    } finally {
      grpc.setLogger(console);
      c.close();
    }
    assert.ok(Date.now() - t0 < 15_000);
    assert.ok(
      logged.some((l) => /excess pings. Increasing ping interval to 1000 ms/.test(l)),
      logged.join('\n'),
    );
  });
});
