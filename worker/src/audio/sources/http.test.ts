import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '@switchforge/platform/errors';
import { AudioInputError } from '../errors.js';
import { SourceAddressPolicy, type HostResolver } from '@switchforge/platform/audio/source-address-policy';
import { contentTypeAllowed, downloadToFile } from './http.js';

const AUDIO = Buffer.from('RIFF....WAVEfmt fake audio bytes');
const LIMITS = { maxBytes: 1024, allowedContentTypes: ['audio/*'], timeoutMs: 5_000 };
/** The local test server is loopback, which the default policy refuses: allowed explicitly. */
const LOCAL = new SourceAddressPolicy({ allowCidrs: ['127.0.0.1/32'] });

let server: Server;
let base: string;
let dir: string;

describe('downloadToFile', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sf-http-'));
    server = createServer((req, res) => {
      switch (req.url) {
        case '/track.wav':
          return void res.writeHead(200, { 'content-type': 'audio/wav; codecs=1' }).end(AUDIO);
        case '/page':
          return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
        case '/declared-big':
          return void res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': '999999' }).end();
        case '/chunked-big': {
          // No Content-Length: the limit must hold while streaming.
          res.writeHead(200, { 'content-type': 'audio/mpeg' });
          for (let i = 0; i < 8; i++) res.write(Buffer.alloc(512, 1));
          return void res.end();
        }
        case '/flaky':
          return void res.writeHead(503).end();
        case '/forbidden':
          return void res.writeHead(403).end();
        default:
          return void res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, extra: { expectedSha256?: string; name?: string } = {}) =>
    downloadToFile({
      url: `${base}${path}`,
      destPath: join(dir, extra.name ?? 'out.wav'),
      limits: LIMITS,
      policy: LOCAL,
      ...extra,
    });

  it('stores an audio response and reports its size, type and sha256', async () => {
    const sha = createHash('sha256').update(AUDIO).digest('hex');
    const got = await get('/track.wav', { expectedSha256: sha.toUpperCase(), name: 'ok.wav' });
    assert.deepEqual(got, { bytes: AUDIO.length, sha256: sha, contentType: 'audio/wav' });
    assert.deepEqual(await readFile(join(dir, 'ok.wav')), AUDIO);
  });

  const rejected: Array<[string, string, string, string?]> = [
    ['a 404 is SourceNotFound', '/missing.wav', 'SourceNotFound'],
    ['a non-audio content type is refused', '/page', 'UnsupportedContentType'],
    ['a declared length over the limit is refused before reading', '/declared-big', 'TooLarge'],
    ['a body that grows past the limit is cut off', '/chunked-big', 'TooLarge'],
    ['a 403 is not retried', '/forbidden', 'InvalidSource'],
    ['a checksum mismatch is refused', '/track.wav', 'ChecksumMismatch', '0'.repeat(64)],
  ];
  for (const [name, path, code, sha] of rejected) {
    it(`${name} (non-retryable)`, async () => {
      const err = await get(path, sha ? { expectedSha256: sha, name: 'bad.wav' } : { name: 'bad.wav' }).catch(
        (e: unknown) => e,
      );
      assert.ok(err instanceof AudioInputError, String(err));
      assert.equal(err.code, code);
      assert.equal(err.retryable, false);
      const left = await readdir(dir);
      assert.ok(
        !left.includes('bad.wav') && !left.includes('bad.wav.partial'),
        `left behind: ${left.join(', ')}`,
      );
    });
  }

  it('treats a 503 and an unreachable host as retryable', async () => {
    const flaky = await get('/flaky').catch((e: unknown) => e);
    assert.ok(flaky instanceof UnavailableError && flaky.retryable);
    const closed = await downloadToFile({
      url: 'http://127.0.0.1:1/x.wav',
      destPath: join(dir, 'x'),
      limits: LIMITS,
      policy: LOCAL,
    }).catch((e: unknown) => e);
    assert.ok(closed instanceof UnavailableError && closed.retryable, String(closed));
  });

  it('refuses schemes other than http(s)', async () => {
    const err = await downloadToFile({
      url: 'file:///etc/passwd',
      destPath: join(dir, 'x'),
      limits: LIMITS,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof AudioInputError && err.code === 'InvalidSource');
  });
});

describe('downloadToFile refuses sources inside the cluster', () => {
  // Loopback stands in for every internal address: 127.0.0.2 is "allowed" (the stand-in for a
  // public server), 127.0.0.3 is not, so a request that reaches 127.0.0.3 proves a hole.
  let allowed: Server;
  let internal: Server;
  let allowedPort: number;
  let internalPort: number;
  let internalHits = 0;
  let dir: string;
  const policy = new SourceAddressPolicy({ allowCidrs: ['127.0.0.2/32'] });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sf-ssrf-'));
    allowed = createServer((req, res) => {
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
      if (to) return void res.writeHead(302, { location: to }).end();
      res.writeHead(200, { 'content-type': 'audio/wav' }).end(AUDIO);
    });
    internal = createServer((_req, res) => {
      internalHits++;
      res.writeHead(200, { 'content-type': 'audio/wav' }).end('internal secret');
    });
    await new Promise<void>((r) => allowed.listen(0, '127.0.0.2', r));
    await new Promise<void>((r) => internal.listen(0, '127.0.0.3', r));
    allowedPort = (allowed.address() as AddressInfo).port;
    internalPort = (internal.address() as AddressInfo).port;
  });
  after(async () => {
    allowed.close();
    internal.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A resolver hook in place of DNS: each name maps to a list of answers, one per lookup. */
  function hosts(table: Record<string, string[]>): HostResolver {
    const calls = new Map<string, number>();
    return (name) => {
      const answers = table[name];
      if (!answers)
        return Promise.reject(Object.assign(new Error(`no such host ${name}`), { code: 'ENOTFOUND' }));
      const n = calls.get(name) ?? 0;
      calls.set(name, n + 1);
      const address = answers[Math.min(n, answers.length - 1)]!;
      return Promise.resolve([{ address, family: address.includes(':') ? 6 : 4 }]);
    };
  }

  const fetchWith = (url: string, p = policy, resolver?: HostResolver) =>
    downloadToFile({
      url,
      destPath: join(dir, 'out.wav'),
      limits: LIMITS,
      policy: p,
      ...(resolver ? { resolver } : {}),
    });

  async function assertRefused(promise: Promise<unknown>, mentions: RegExp): Promise<void> {
    const err = await promise.catch((e: unknown) => e);
    assert.ok(err instanceof AudioInputError, `expected a refusal, got ${String(err)}`);
    assert.equal(err.code, 'SourceForbidden');
    assert.equal(err.retryable, false);
    assert.match(err.message, mentions);
  }

  const refusedByDefault: Array<[string, string, RegExp]> = [
    ['loopback', 'http://127.0.0.1:9/a.wav', /loopback/],
    ['loopback in decimal', 'http://2130706433:9/a.wav', /127\.0\.0\.1.*loopback/],
    ['IPv6 loopback', 'http://[::1]:9/a.wav', /loopback/],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]:9/a.wav', /loopback/],
    ['NAT64 form of loopback', 'http://[64:ff9b::7f00:1]:9/a.wav', /loopback/],
    ['link-local metadata', 'http://169.254.169.254/latest/meta-data/', /link-local/],
    ['IPv6 link-local', 'http://[fe80::1]/a.wav', /link-local/],
    ['RFC 1918 10/8', 'http://10.0.0.1/a.wav', /private/],
    ['RFC 1918 172.16/12', 'http://172.31.255.1/a.wav', /private/],
    ['RFC 1918 192.168/16', 'http://192.168.1.1/a.wav', /private/],
    ['IPv4-mapped private', 'http://[::ffff:10.1.2.3]/a.wav', /private/],
    ['CGNAT', 'http://100.64.0.1/a.wav', /CGNAT/],
    ['unique-local IPv6', 'http://[fd00::1]/a.wav', /unique-local/],
    ['unspecified', 'http://0.0.0.0:9/a.wav', /unspecified/],
    ['IPv6 unspecified', 'http://[::]:9/a.wav', /unspecified/],
    ['multicast', 'http://224.0.0.1/a.wav', /multicast/],
  ];
  for (const [what, url, mentions] of refusedByDefault) {
    it(`refuses ${what} (${url}) before connecting`, () =>
      assertRefused(fetchWith(url, new SourceAddressPolicy()), mentions));
  }

  it('reaches an allowed address, and only the address the resolver hook validated', async () => {
    const got = await fetchWith(
      `http://audio.example.test:${allowedPort}/a.wav`,
      policy,
      hosts({ 'audio.example.test': ['127.0.0.2'] }),
    );
    assert.equal(got.bytes, AUDIO.length);
    assert.deepEqual(await readFile(join(dir, 'out.wav')), AUDIO);
  });

  it('refuses a host name that resolves to a forbidden address', async () => {
    await assertRefused(
      fetchWith(
        `http://internal.example.test:${internalPort}/a.wav`,
        policy,
        hosts({ 'internal.example.test': ['127.0.0.3'] }),
      ),
      /internal\.example\.test \(127\.0\.0\.3\) is a loopback address/,
    );
    assert.equal(internalHits, 0);
  });

  it('refuses a redirect from an allowed server to a forbidden one', async () => {
    const to = encodeURIComponent(`http://127.0.0.3:${internalPort}/secret.wav`);
    await assertRefused(
      fetchWith(`http://127.0.0.2:${allowedPort}/a.wav?to=${to}`),
      /127\.0\.0\.3 is a loopback/,
    );
    assert.equal(internalHits, 0);
  });

  it('re-resolves on every hop, so a name that rebinds to a forbidden address is refused', async () => {
    const resolver = hosts({ 'rebind.example.test': ['127.0.0.2', '127.0.0.3'] });
    // First hop: rebind → 127.0.0.2 (allowed), which redirects to the same name on another port.
    const to = encodeURIComponent(`http://rebind.example.test:${internalPort}/secret.wav`);
    await assertRefused(
      fetchWith(`http://rebind.example.test:${allowedPort}/a.wav?to=${to}`, policy, resolver),
      /rebind\.example\.test \(127\.0\.0\.3\)/,
    );
    assert.equal(internalHits, 0);
  });

  it('follows allowed redirects up to a bound', async () => {
    const final = `http://127.0.0.2:${allowedPort}/a.wav`;
    const via = `http://127.0.0.2:${allowedPort}/r?to=${encodeURIComponent(final)}`;
    assert.equal((await fetchWith(via)).bytes, AUDIO.length);
    let loop = final;
    for (let i = 0; i < 7; i++) loop = `http://127.0.0.2:${allowedPort}/r?to=${encodeURIComponent(loop)}`;
    const err = await fetchWith(loop).catch((e: unknown) => e);
    assert.ok(err instanceof AudioInputError && err.code === 'InvalidSource', String(err));
  });

  it('lets an allowed host name through whatever it resolves to, and an allowed range', async () => {
    const trusted = new SourceAddressPolicy({ allowHosts: ['NAS.example.test'] });
    const got = await fetchWith(
      `http://nas.example.test:${internalPort}/a.wav`,
      trusted,
      hosts({ 'nas.example.test': ['127.0.0.3'] }),
    );
    assert.equal(got.bytes, 'internal secret'.length);
    const range = new SourceAddressPolicy({ allowCidrs: ['127.0.0.0/30'] });
    assert.equal(
      (await fetchWith(`http://127.0.0.3:${internalPort}/a.wav`, range)).bytes,
      'internal secret'.length,
    );
    internalHits = 0;
  });

  it('refuses the cluster’s own ranges even inside an allowed range', async () => {
    const p = new SourceAddressPolicy({ allowCidrs: ['127.0.0.0/8'], clusterCidrs: ['127.0.0.3/32'] });
    await assertRefused(fetchWith(`http://127.0.0.3:${internalPort}/a.wav`, p), /cluster/);
    assert.equal(internalHits, 0);
  });
});

describe('contentTypeAllowed', () => {
  const cases: Array<[string | undefined, boolean]> = [
    ['audio/flac', true],
    ['application/octet-stream', false],
    ['audiox/flac', false],
    [undefined, false],
  ];
  for (const [type, want] of cases) {
    it(`${type ?? '(none)'} is ${want ? 'allowed' : 'refused'} by audio/*`, () =>
      assert.equal(contentTypeAllowed(type, ['audio/*']), want));
  }
});
