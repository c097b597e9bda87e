import { z } from 'zod';
import { UnavailableError, NotAllowedError } from '@switchforge/platform/errors';
import { AudioInputError } from '../errors.js';
import type { TrackMetadata } from '@switchforge/platform/audio/types';

export interface SpotifyClientOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Token endpoint host; tests point it at a local stand-in. */
  readonly accountsBaseUrl?: string;
  readonly apiBaseUrl?: string;
  /** A token is refreshed this long before Spotify says it expires. */
  readonly refreshMarginMs?: number;
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
}

const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().positive(),
});

const TrackResponse = z.object({
  id: z.string(),
  name: z.string(),
  duration_ms: z.number().optional(),
  preview_url: z.string().nullable().optional(),
  artists: z.array(z.object({ name: z.string() })).default([]),
  album: z.object({ name: z.string() }).optional(),
  external_ids: z.object({ isrc: z.string().optional() }).optional(),
});

export interface SpotifyTrack extends TrackMetadata {
  /** A 30 s preview, where Spotify still offers one. */
  readonly previewUrl?: string;
}

const TRACK_ID = /^[0-9A-Za-z]{22}$/;

/**
 * Spotify Web API metadata with the client-credentials flow. One token is cached and shared by
 * concurrent callers; it is refreshed `refreshMarginMs` before expiry, and once more on a 401.
 */
export class SpotifyClient {
  private readonly accounts: string;
  private readonly api: string;
  private readonly margin: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private token: { value: string; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;

  constructor(private readonly opts: SpotifyClientOptions) {
    this.accounts = (opts.accountsBaseUrl ?? 'https://accounts.spotify.com').replace(/\/$/, '');
    this.api = (opts.apiBaseUrl ?? 'https://api.spotify.com').replace(/\/$/, '');
    this.margin = opts.refreshMarginMs ?? 60_000;
    this.timeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.now = opts.now ?? Date.now;
  }

  async getTrack(trackId: string, signal?: AbortSignal): Promise<SpotifyTrack> {
    if (!TRACK_ID.test(trackId)) {
      throw new AudioInputError('InvalidSource', `${JSON.stringify(trackId)} is not a Spotify track id`);
    }
    const url = `${this.api}/v1/tracks/${trackId}`;
    let res = await this.get(url, await this.accessToken(), signal);
    if (res.status === 401) {
      this.token = undefined;
      res = await this.get(url, await this.accessToken(), signal);
    }
    if (res.status === 404 || res.status === 400) {
      throw new AudioInputError('SourceNotFound', `Spotify has no track ${trackId} (${res.status})`);
    }
    if (!res.ok)
      throw new UnavailableError(`Spotify answered ${res.status} for track ${trackId}`, 'SpotifyUnavailable');
    const parsed = TrackResponse.safeParse(await res.json());
    if (!parsed.success)
      throw new UnavailableError(`Spotify track ${trackId}: unexpected reply shape`, 'SpotifyProtocolError');
    const t = parsed.data;
    return {
      id: t.id,
      name: t.name,
      artists: t.artists.map((a) => a.name),
      ...(t.album ? { album: t.album.name } : {}),
      ...(t.duration_ms !== undefined ? { durationMs: t.duration_ms } : {}),
      ...(t.external_ids?.isrc ? { isrc: t.external_ids.isrc } : {}),
      ...(t.preview_url ? { previewUrl: t.preview_url } : {}),
    };
  }

  /** The cached token, or a fresh one when it is within the margin of expiry. */
  async accessToken(): Promise<string> {
    if (this.token && this.now() < this.token.expiresAt - this.margin) return this.token.value;
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchToken(): Promise<string> {
    const basic = Buffer.from(`${this.opts.clientId}:${this.opts.clientSecret}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(`${this.accounts}/api/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new UnavailableError(
        `Spotify token endpoint unreachable: ${(e as Error).message}`,
        'SpotifyUnavailable',
        { cause: e },
      );
    }
    if (res.status === 400 || res.status === 401) {
      throw new NotAllowedError(`Spotify rejected the client credentials (${res.status})`);
    }
    if (!res.ok)
      throw new UnavailableError(`Spotify token endpoint answered ${res.status}`, 'SpotifyUnavailable');
    const body = TokenResponse.safeParse(await res.json());
    if (!body.success)
      throw new UnavailableError('Spotify token reply has an unexpected shape', 'SpotifyProtocolError');
    const issuedAt = this.now();
    this.token = { value: body.data.access_token, expiresAt: issuedAt + body.data.expires_in * 1000 };
    return this.token.value;
  }

  private async get(url: string, token: string, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      return await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new UnavailableError(`Spotify API unreachable: ${(e as Error).message}`, 'SpotifyUnavailable', {
        cause: e,
      });
    }
  }
}
