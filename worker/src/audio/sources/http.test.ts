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
import { contentTypeAllowed, downloadToFile } from './http.js';

const AUDIO = Buffer.from('RIFF....WAVEfmt fake audio bytes');
const LIMITS = { maxBytes: 1024, allowedContentTypes: ['audio/*'], timeoutMs: 5_000 };

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
