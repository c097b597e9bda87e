/**
 * The discovery probes against the project's gNMI and NETCONF simulators: TLS is verified unless
 * the template turns it off, a pinned CA and server name make it answer, and a NETCONF host key
 * that is not pinned for the target is a HostKeyMismatch, never an answer.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parsePinnedHostKeys } from '@switchforge/platform/ssh/host-key';
import { probeGnmi } from '@switchforge/operator/discovery/gnmi-probe';
import { probeNetconf } from '@switchforge/operator/discovery/netconf-probe';
import {
  generateSshKeyPair,
  startNetconfSimulator,
  type NetconfSimulator,
} from '@switchforge/simulators/netconf';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import { startGnmiSimulator, type GnmiSimulator } from '@switchforge/simulators/gnmi/server';

const login = { username: 'ops', password: 'probe-secret' };
let pki: TestPki;
let gnmi: GnmiSimulator;
let netconf: NetconfSimulator;

before(async () => {
  pki = generateTestPki();
  gnmi = await startGnmiSimulator({
    tls: { cert: pki.server.cert, key: pki.server.key },
    credentials: login,
  });
  netconf = await startNetconfSimulator(login);
});
after(async () => {
  await gnmi?.stop();
  await netconf?.stop();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

describe('the gNMI probe', () => {
  const base = { address: '127.0.0.1', login, timeoutMs: 3000 };
  test('verifies the certificate by default: a CA it does not know is a TLSError', async () => {
    const outcome = await probeGnmi({ ...base, port: gnmi.port, tls: { mode: 'tls' } });
    assert.equal(outcome.kind, 'unreachable');
    assert.ok(outcome.kind === 'unreachable' && outcome.reason === 'TLSError', JSON.stringify(outcome));
  });
  test('answers with the pinned CA, reporting version, encodings and models', async () => {
    const outcome = await probeGnmi({
      ...base,
      port: gnmi.port,
      tls: { mode: 'tls', ca: pki.ca.cert, serverName: 'localhost' },
    });
    assert.ok(outcome.kind === 'answered', JSON.stringify(outcome));
    assert.equal(outcome.facts.gnmiVersion, '0.10.0');
    assert.deepEqual([...outcome.facts.encodings!].sort(), ['json', 'json_ietf', 'proto']);
    assert.equal(outcome.facts.models.length, 4);
  });
  test('plaintext against a TLS target is no answer, not a refusal', async () => {
    const outcome = await probeGnmi({ ...base, port: gnmi.port, tls: { mode: 'insecure' } });
    assert.equal(outcome.kind, 'unreachable');
  });
});

describe('the NETCONF probe', () => {
  const base = { address: '127.0.0.1', login, timeoutMs: 3000 };
  test('answers with the pinned host key, reading the hello', async () => {
    const outcome = await probeNetconf({
      ...base,
      port: netconf.port,
      hostKeys: parsePinnedHostKeys(netconf.hostKey),
    });
    assert.ok(outcome.kind === 'answered', JSON.stringify(outcome));
    assert.deepEqual(outcome.facts.netconfBase, ['1.0', '1.1']);
    assert.ok(outcome.facts.models.some((m) => m.includes('openconfig-interfaces')));
  });
  test('a host key that is not pinned is a HostKeyMismatch, before any login', async () => {
    const other = parsePinnedHostKeys(generateSshKeyPair().public);
    const outcome = await probeNetconf({ ...base, port: netconf.port, hostKeys: other });
    assert.ok(
      outcome.kind === 'unreachable' && outcome.reason === 'HostKeyMismatch',
      JSON.stringify(outcome),
    );
  });
  test('no pinned key for the target is a HostKeyMismatch too', async () => {
    const outcome = await probeNetconf({ ...base, port: netconf.port, hostKeys: [] });
    assert.ok(
      outcome.kind === 'unreachable' && outcome.reason === 'HostKeyMismatch',
      JSON.stringify(outcome),
    );
  });
});
