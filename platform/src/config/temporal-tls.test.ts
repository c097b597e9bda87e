import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTemporalTls } from './temporal-tls.js';

const dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ca = file('ca.crt', 'CA');
const crt = file('tls.crt', 'CERT');
const key = file('tls.key', 'KEY');

describe('Temporal TLS from TEMPORAL_TLS_*', () => {
  test('nothing set means plaintext', async () => {
    assert.equal(await readTemporalTls({}), undefined);
    assert.equal(await readTemporalTls({ TEMPORAL_TLS_CA_FILE: '' }), undefined);
  });

  test('a CA alone verifies the server, with an optional server name', async () => {
    const tls = await readTemporalTls({
      TEMPORAL_TLS_CA_FILE: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    assert.deepEqual(tls, {
      serverNameOverride: 'temporal.internal',
      serverRootCACertificate: Buffer.from('CA'),
    });
  });

  test('a certificate and its key make a client certificate (mTLS)', async () => {
    const tls = await readTemporalTls({
      TEMPORAL_TLS_CA_FILE: ca,
      TEMPORAL_TLS_CERT_FILE: crt,
      TEMPORAL_TLS_KEY_FILE: key,
    });
    assert.deepEqual(tls?.clientCertPair, { crt: Buffer.from('CERT'), key: Buffer.from('KEY') });
  });

  const bad: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    [
      'a certificate without its key',
      { TEMPORAL_TLS_CERT_FILE: crt },
      /TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together/,
    ],
    ['a key without its certificate', { TEMPORAL_TLS_KEY_FILE: key }, /go together/],
    [
      'a CA file that is not there',
      { TEMPORAL_TLS_CA_FILE: join(dir, 'missing.crt') },
      /TEMPORAL_TLS_CA_FILE: cannot read .*missing\.crt/,
    ],
  ];
  for (const [what, env, message] of bad) {
    test(`${what} stops the process with the variable's name`, async () => {
      await assert.rejects(readTemporalTls(env), (e: Error & { reason?: string }) => {
        assert.match(e.message, message);
        assert.equal(e.reason, 'InvalidConfiguration');
        return true;
      });
    });
  }
});
