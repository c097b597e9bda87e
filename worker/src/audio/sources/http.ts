import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Agent, fetch, type Response } from 'undici';
import { UnavailableError } from '@switchforge/platform/errors';
import { AudioInputError } from '../errors.js';
import {
  SourceAddressPolicy,
  SourceForbiddenError,
  assertLiteralHostAllowed,
  guardedLookup,
  type HostResolver,
} from '@switchforge/platform/audio/source-address-policy';

export interface HttpLimits {
  readonly maxBytes: number;
  /** Media types accepted; `audio/*` matches any audio type. */
  readonly allowedContentTypes: readonly string[];
  /** Per request, headers and body together. */
  readonly timeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxBytes: 200 * 1024 * 1024,
  allowedContentTypes: ['audio/*', 'application/octet-stream'],
  timeoutMs: 5 * 60_000,
};

export interface FetchedFile {
  readonly bytes: number;
  readonly sha256: string;
  readonly contentType?: string;
}

export interface DownloadOptions {
  readonly url: string;
  readonly destPath: string;
  readonly limits: HttpLimits;
  readonly expectedSha256?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (bytes: number, total: number | undefined) => void;
  /** What the source may reach; the default refuses every internal address. */
  readonly policy?: SourceAddressPolicy;
  /** Host name resolution (tests pass their own); the system resolver by default. */
  readonly resolver?: HostResolver;
}

/** Redirect hops followed (each one checked like the first request). */
export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Streams an http(s) URL into `destPath`, enforcing the size limit while the bytes arrive (a lying
 * or missing Content-Length does not help), the content-type allowlist and an optional sha256.
 * The file appears at `destPath` only when every check passed.
 */
export async function downloadToFile(opts: DownloadOptions): Promise<FetchedFile> {
  let url = parseHttpUrl(opts.url);
  const timeout = AbortSignal.timeout(opts.limits.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const policy = opts.policy ?? new SourceAddressPolicy();
  // Every connection resolves through the guard: the address checked is the address connected to.
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(policy, opts.resolver) } });
  try {
    let res: Response;
    for (let hop = 0; ; hop++) {
      res = await request(url, dispatcher, policy, signal, opts.signal);
      const location = res.headers.get('location');
      if (!REDIRECTS.has(res.status) || location === null) break;
      await res.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS)
        throw new AudioInputError('InvalidSource', `source redirected more than ${MAX_REDIRECTS} times`);
      url = parseHttpUrl(new URL(location, url).href);
    }
    return await receive(res, url, opts, signal);
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

/** One request, no redirects followed (the caller checks each hop). */
async function request(
  url: URL,
  dispatcher: Agent,
  policy: SourceAddressPolicy,
  signal: AbortSignal,
  callerSignal: AbortSignal | undefined,
): Promise<Response> {
  assertLiteralHostAllowed(policy, url);
  try {
    return await fetch(url, { signal, redirect: 'manual', dispatcher });
  } catch (e) {
    const forbidden = forbiddenCause(e);
    if (forbidden) throw forbidden;
    if (callerSignal?.aborted) throw e;
    throw new UnavailableError(
      `cannot fetch ${url.origin}${url.pathname}: ${causeOf(e)}`,
      'SourceUnavailable',
      { cause: e },
    );
  }
}

async function receive(
  res: Response,
  url: URL,
  opts: DownloadOptions,
  signal: AbortSignal,
): Promise<FetchedFile> {
  try {
    checkStatus(res, url);
    const contentType = mediaType(res.headers.get('content-type'));
    if (!contentTypeAllowed(contentType, opts.limits.allowedContentTypes)) {
      throw new AudioInputError(
        'UnsupportedContentType',
        `source answered with content type ${contentType ?? '(none)'}, not audio`,
      );
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > opts.limits.maxBytes) {
      throw tooLarge(opts.limits.maxBytes, declared);
    }
    if (!res.body) throw new AudioInputError('EmptyAudio', 'source answered without a body');

    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > opts.limits.maxBytes) return cb(tooLarge(opts.limits.maxBytes));
        hash.update(chunk);
        opts.onProgress?.(bytes, Number.isFinite(declared) ? declared : undefined);
        cb(null, chunk);
      },
    });
    const partial = `${opts.destPath}.partial`;
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), meter, createWriteStream(partial), {
        signal,
      });
      if (bytes === 0) throw new AudioInputError('EmptyAudio', 'source is empty (0 bytes)');
      const sha256 = hash.digest('hex');
      if (opts.expectedSha256 && opts.expectedSha256.toLowerCase() !== sha256) {
        throw new AudioInputError(
          'ChecksumMismatch',
          `sha256 of the source is ${sha256}, expected ${opts.expectedSha256}`,
        );
      }
      await rename(partial, opts.destPath);
      return { bytes, sha256, ...(contentType !== undefined ? { contentType } : {}) };
    } catch (e) {
      await rm(partial, { force: true });
      if (e instanceof AudioInputError || opts.signal?.aborted) throw e;
      throw new UnavailableError(
        `download of ${url.origin}${url.pathname} broke off: ${causeOf(e)}`,
        'SourceUnavailable',
        { cause: e },
      );
    }
  } finally {
    // Release the connection when we stopped reading early.
    await res.body?.cancel().catch(() => undefined);
  }
}

/** The guard's refusal, wherever fetch wrapped it. */
function forbiddenCause(e: unknown): SourceForbiddenError | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++)
    if (c instanceof SourceForbiddenError) return c;
  return undefined;
}

function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AudioInputError('InvalidSource', `source url ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AudioInputError('InvalidSource', `source url scheme ${url.protocol} is not http(s)`);
  }
  return url;
}

function checkStatus(res: Response, url: URL): void {
  if (res.ok) return;
  const where = `${url.origin}${url.pathname}`;
  if (res.status === 404 || res.status === 410) {
    throw new AudioInputError('SourceNotFound', `source ${where} answered ${res.status}`);
  }
  if (res.status === 429 || res.status >= 500) {
    throw new UnavailableError(`source ${where} answered ${res.status}`, 'SourceUnavailable');
  }
  // Other 4xx (401, 403, 400): asking again will not change the answer.
  throw new AudioInputError('InvalidSource', `source ${where} refused the request with ${res.status}`);
}

function mediaType(header: string | null): string | undefined {
  const t = header?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

export function contentTypeAllowed(type: string | undefined, allowed: readonly string[]): boolean {
  if (type === undefined) return false;
  return allowed.some((a) => (a.endsWith('/*') ? type.startsWith(a.slice(0, -1)) : a === type));
}

function tooLarge(max: number, declared?: number): AudioInputError {
  const size = declared === undefined ? 'more than' : `${declared} bytes, over`;
  return new AudioInputError('TooLarge', `source is ${size} the ${max}-byte limit`);
}

function causeOf(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return `${e.message}${cause}`;
  }
  return String(e);
}
