import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NotAllowedError } from '@switchforge/platform/errors';
import { AudioInputError } from '../errors.js';
import { SpotifyClient } from './spotify.js';
import { previewUrlResolver } from './track-audio.js';

const TRACK = '4uLU6hMCjMI75M1A2tKUQC';
const NO_PREVIEW = '0000000000000000000000';

/** A stand-in for accounts.spotify.com and api.spotify.com. */
class SpotifyStandIn {
  tokensIssued = 0;
  expiresIn = 3600;
  /** Tokens the API rejects as expired (Spotify can revoke before `expires_in`). */
  readonly revoked = new Set<string>();
  lastAuth: string | undefined;
  server: Server = createServer((req, res) => void this.handle(req, res));
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const c of req) body += String(c);
    const json = (status: number, v: unknown): void =>
      void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    if (req.method === 'POST' && req.url === '/api/token') {
      const ok = req.headers.authorization === `Basic ${Buffer.from('id:secret').toString('base64')}`;
      if (!ok || body !== 'grant_type=client_credentials') return json(400, { error: 'invalid_client' });
      this.tokensIssued++;
      return json(200, {
        access_token: `tok-${this.tokensIssued}`,
        token_type: 'Bearer',
        expires_in: this.expiresIn,
      });
    }
    const auth = req.headers.authorization ?? '';
    this.lastAuth = auth;
    if (!auth.startsWith('Bearer tok-') || this.revoked.has(auth.slice(7)))
      return json(401, { error: { status: 401 } });
    if (req.url === `/v1/tracks/${TRACK}`) {
      return json(200, {
        id: TRACK,
        name: 'Mr. Brightside',
        duration_ms: 222973,
        preview_url: `${this.url}/preview.mp3`,
        artists: [{ name: 'The Killers' }],
        album: { name: 'Hot Fuss' },
        external_ids: { isrc: 'USIR20400274' },
      });
    }
    if (req.url === `/v1/tracks/${NO_PREVIEW}`)
      return json(200, { id: NO_PREVIEW, name: 'x', preview_url: null, artists: [] });
    return json(404, { error: { status: 404, message: 'Non existing id' } });
  }
}

describe('SpotifyClient', () => {
  const standIn = new SpotifyStandIn();
  let clock = 1_000_000;
  const client = () =>
    new SpotifyClient({
      clientId: 'id',
      clientSecret: 'secret',
      accountsBaseUrl: standIn.url,
      apiBaseUrl: standIn.url,
      refreshMarginMs: 60_000,
      now: () => clock,
    });

  before(() => standIn.start());
  after(() => standIn.server.close());

  it('maps track metadata and reuses one token across concurrent and later calls', async () => {
    const c = client();
    const before = standIn.tokensIssued;
    const [a] = await Promise.all([c.getTrack(TRACK), c.getTrack(TRACK), c.getTrack(TRACK)]);
    await c.getTrack(TRACK);
    assert.equal(standIn.tokensIssued - before, 1);
    assert.deepEqual(a, {
      id: TRACK,
      name: 'Mr. Brightside',
      artists: ['The Killers'],
      album: 'Hot Fuss',
      durationMs: 222973,
      isrc: 'USIR20400274',
      previewUrl: `${standIn.url}/preview.mp3`,
    });
  });

  it('refreshes the token before it expires, not after', async () => {
    const c = client();
    const first = await c.accessToken();
    clock += 3600_000 - 61_000; // just outside the margin
    assert.equal(await c.accessToken(), first);
    clock += 2_000; // inside the last minute
    const second = await c.accessToken();
    assert.notEqual(second, first);
    await c.getTrack(TRACK);
    assert.equal(standIn.lastAuth, `Bearer ${second}`);
  });

  it('fetches a new token once when the API rejects the cached one', async () => {
    const c = client();
    const stale = await c.accessToken();
    standIn.revoked.add(stale);
    const track = await c.getTrack(TRACK);
    assert.equal(track.id, TRACK);
    assert.notEqual(standIn.lastAuth, `Bearer ${stale}`);
  });

  it('reports an unknown track as SourceNotFound and a malformed id as InvalidSource', async () => {
    const missing = await client()
      .getTrack('1111111111111111111111')
      .catch((e: unknown) => e);
    assert.ok(missing instanceof AudioInputError && missing.code === 'SourceNotFound');
    const malformed = await client()
      .getTrack('../../v1/me')
      .catch((e: unknown) => e);
    assert.ok(malformed instanceof AudioInputError && malformed.code === 'InvalidSource');
  });

  it('fails with NotAllowed when the credentials are rejected', async () => {
    const c = new SpotifyClient({
      clientId: 'id',
      clientSecret: 'wrong',
      accountsBaseUrl: standIn.url,
      apiBaseUrl: standIn.url,
    });
    await assert.rejects(c.getTrack(TRACK), NotAllowedError);
  });

  it('resolves a track to its preview and refuses a track without audio', async () => {
    const c = client();
    assert.deepEqual(await previewUrlResolver.resolve(await c.getTrack(TRACK)), {
      url: `${standIn.url}/preview.mp3`,
    });
    const err = await previewUrlResolver.resolve(await c.getTrack(NO_PREVIEW)).catch((e: unknown) => e);
    assert.ok(err instanceof AudioInputError && err.code === 'SourceNotFound');
  });
});
