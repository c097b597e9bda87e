/**
 * Against a NETCONF server written by others: Debian's netconfd (yuma123) behind OpenSSH's
 * `netconf` subsystem, started by e2e/infra/netconfd.sh (which installs the packages if missing).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sample } from '../device/sample.js';
import { NetconfCollector } from './collector.js';
import { RpcError } from './errors.js';
import { NetconfSession, type NetconfSessionOptions } from './session.js';

const script = fileURLToPath(new URL('../../../e2e/infra/netconfd.sh', import.meta.url));
const IETF_IF = 'urn:ietf:params:xml:ns:yang:ietf-interfaces';

describe('against netconfd (yuma123) behind OpenSSH', () => {
  let info: Record<string, string> = {};
  let skip: string | undefined;

  before(async () => {
    try {
      const { stdout } = await promisify(execFile)('bash', [script], { timeout: 300_000 });
      info = Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      // Only a failed package install is a reason to skip; anything else is a failure.
      if (/apt-get|missing packages|Unable to locate|Could not resolve/i.test(err.stderr ?? ''))
        skip = `netconfd could not be installed: ${err.stderr?.trim().split('\n').at(-1)}`;
      else throw e;
    }
  });
  after(async () => {
    if (!skip) await promisify(execFile)('bash', [script, 'stop']);
  });

  const options = (): NetconfSessionOptions => ({
    host: '127.0.0.1',
    port: Number(info.port),
    username: info.username ?? '',
    hostKey: info.host_key,
    device: 'lab/netconfd',
    ...(info.password
      ? { password: info.password }
      : { privateKey: readFileSync(info.private_key_file ?? '') }),
  });

  it('negotiates base:1.1, reads interface state as rows and backs up the running configuration', async (t) => {
    if (skip) return t.skip(skip);
    const session = await NetconfSession.connect(options());
    try {
      assert.equal(session.framing, 'chunked');
      const rows: Sample[] = [];
      await session.get({ type: 'subtree', value: `<interfaces-state xmlns="${IETF_IF}"/>` }, (b) =>
        rows.push(...b),
      );
      const lo = rows.filter((r) => r.labels.name === 'lo');
      assert.equal(lo.find((r) => r.path === '/interfaces-state/interface/name')?.value, 'lo');
      assert.equal(
        typeof lo.find((r) => r.path === '/interfaces-state/interface/statistics/in-octets')?.value,
        'number',
      );

      const xpathRows: Sample[] = [];
      await session.get(
        {
          type: 'xpath',
          value: "/if:interfaces-state/if:interface[if:name='lo']",
          namespaces: { if: IETF_IF },
        },
        (b) => xpathRows.push(...b),
      );
      assert.ok(xpathRows.length > 0 && xpathRows.every((r) => r.labels.name === 'lo'));

      const config = await session.getRunningConfig();
      assert.match(config, /^<data [^>]*xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/);

      await assert.rejects(
        session.get({ type: 'xpath', value: '/not valid[' }, () => undefined),
        (e: unknown) => e instanceof RpcError && e.errorType === 'protocol' && e.severity === 'error',
      );
    } finally {
      await session.close();
    }
  });

  it('authenticates with the test key too, and speaks end-of-message framing when asked for base:1.0 only', async (t) => {
    if (skip) return t.skip(skip);
    const { password: _unused, ...rest } = options();
    const session = await NetconfSession.connect({
      ...rest,
      privateKey: readFileSync(info.private_key_file ?? ''),
      baseVersions: ['1.0'],
    });
    try {
      assert.equal(session.framing, 'eom');
      assert.ok(
        (await session.get(
          { type: 'subtree', value: `<interfaces-state xmlns="${IETF_IF}"/>` },
          () => undefined,
        )) > 0,
      );
    } finally {
      await session.close();
    }
  });

  it('runs as a collector: subscribes to notifications, polls, and stops cleanly', async (t) => {
    if (skip) return t.skip(skip);
    const o = options();
    const collector = new NetconfCollector({
      deviceName: 'lab/netconfd',
      address: o.host,
      port: o.port,
      username: o.username,
      password: o.password,
      privateKey: o.privateKey,
      hostKey: o.hostKey,
      subscriptions: [
        {
          source: 'get',
          intervalMs: 200,
          filter: { type: 'subtree', value: `<interfaces-state xmlns="${IETF_IF}"/>` },
        },
      ],
    });
    const samples: Sample[] = [];
    const malformed: Error[] = [];
    const abort = new AbortController();
    const done = collector.run(
      {
        onSamples: (s) => samples.push(...s),
        onState: () => undefined,
        onMalformed: (e) => malformed.push(e),
      },
      abort.signal,
    );
    const deadline = Date.now() + 5000;
    while (new Set(samples.map((s) => s.timestampNs)).size < 2 && Date.now() < deadline) await sleep(50);
    abort.abort();
    await done;
    assert.ok(new Set(samples.map((s) => s.timestampNs)).size >= 2, 'at least two polls');
    assert.deepEqual(malformed, []);
  });

  it('rejects netconfd when a different host key is pinned', async (t) => {
    if (skip) return t.skip(skip);
    const wrong = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIVD6Zr135Pl/q0bg0DNv9jirHfAvBzqOIH8Q45a8DDO';
    await assert.rejects(NetconfSession.connect({ ...options(), hostKey: wrong }), {
      reason: 'HostKeyMismatch',
    });
    await assert.rejects(NetconfSession.connect({ ...options(), password: 'nope', privateKey: undefined }), {
      reason: 'AuthFailed',
    });
  });
});
