/**
 * Reads an inventory over HTTP: the first page at the configured URL, then each `next` link
 * (NetBox's pagination) up to a bound on pages and entries, every page with a timeout and a bound
 * on its size. The token goes only to the configured host and is never part of a message.
 * Failures are InventoryFetchErrors whose reason becomes the DeviceInventory's condition reason.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UnavailableError } from '@switchforge/platform/errors';

/** A page larger than this is refused (NetBox's largest page, 1000 devices, is a few MiB). */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;
/** All pages of one sync together are refused beyond this: the operator holds them at once. */
export const MAX_INVENTORY_BYTES = 64 * 1024 * 1024;

export type InventoryFetchReason =
  | 'InvalidURL'
  | 'TokenRefused'
  | 'Forbidden'
  | 'HTTPError'
  | 'Timeout'
  | 'ConnectionFailed'
  | 'TLSError'
  | 'ResponseTooLarge'
  | 'InvalidJSON'
  | 'UnexpectedShape'
  | 'InvalidNextLink'
  | 'TooManyPages'
  | 'TooManyEntries';

export class InventoryFetchError extends UnavailableError {
  declare readonly reason: InventoryFetchReason;
  constructor(message: string, reason: InventoryFetchReason, options?: ErrorOptions) {
    super(message, reason, options);
  }
}

export interface FetchOptions {
  url: string;
  /** Sent as `Authorization: Token <token>`. */
  token?: string;
  /** PEM: the CA the server's certificate must chain to (else the system's). */
  ca?: Buffer;
  insecureSkipVerify?: boolean;
  /** Per page, connection and body together. */
  timeoutMs: number;
  maxPages: number;
  maxEntries: number;
  maxPageBytes?: number;
  /** All pages together; MAX_INVENTORY_BYTES when unset. */
  maxTotalBytes?: number;
}

export interface FetchedInventory {
  entries: unknown[];
  pages: number;
}

/** The configured URL, if it is an http(s) URL without user information (secrets live in Secrets). */
export function sourceUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InventoryFetchError(`"${text}" is not a URL`, 'InvalidURL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InventoryFetchError(`${url.protocol} URLs are not read: http or https only`, 'InvalidURL');
  if (url.username !== '' || url.password !== '')
    throw new InventoryFetchError(
      'the URL carries user information: put the token in the Secret tokenSecretRef names',
      'InvalidURL',
    );
  return url;
}

/** Where a page's entries and its next link are: NetBox's `{results, next}`, or a bare array. */
export function pageEntries(body: unknown): { results: unknown[]; next: unknown } {
  if (Array.isArray(body)) return { results: body, next: null };
  const page = body as { results?: unknown; next?: unknown } | null;
  if (page === null || typeof page !== 'object' || !Array.isArray(page.results))
    throw new InventoryFetchError(
      'the page is neither a JSON array nor an object with a results array',
      'UnexpectedShape',
    );
  return { results: page.results, next: page.next ?? null };
}

/**
 * The URL of the next page, or undefined at the last. A next link must name the configured host;
 * its path and query are then read from the configured origin (scheme and port as configured: a
 * proxy in front of NetBox often writes http:// links for an https:// site).
 */
export function nextPageUrl(base: URL, next: unknown): URL | undefined {
  if (next === null || next === undefined || next === '') return undefined;
  if (typeof next !== 'string')
    throw new InventoryFetchError('the next link is not a string', 'InvalidNextLink');
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    throw new InventoryFetchError(`the next link "${next.slice(0, 200)}" is not a URL`, 'InvalidNextLink');
  }
  if (url.hostname !== base.hostname)
    throw new InventoryFetchError(
      `the next link names host ${url.hostname}, not ${base.hostname}: the token is sent to the configured host only`,
      'InvalidNextLink',
    );
  return new URL(`${url.pathname}${url.search}`, base.origin);
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
]);

function classify(e: unknown, where: string): InventoryFetchError {
  if (e instanceof InventoryFetchError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string') {
    if (CONNECTION_CODES.has(code))
      return new InventoryFetchError(`${where}: ${code}`, 'ConnectionFailed', { cause: e });
    if (/CERT|TLS|SSL|SIGNATURE|SELF_SIGNED/.test(code))
      return new InventoryFetchError(`${where}: TLS: ${message}`, 'TLSError', { cause: e });
  }
  return new InventoryFetchError(`${where}: ${message}`, 'ConnectionFailed', { cause: e });
}

function statusError(status: number, where: string, withToken: boolean): InventoryFetchError {
  if (status === 401)
    return new InventoryFetchError(
      withToken ? `${where}: token refused (HTTP 401)` : `${where}: a token is required (HTTP 401)`,
      'TokenRefused',
    );
  if (status === 403)
    return new InventoryFetchError(`${where}: the token may not read this (HTTP 403)`, 'Forbidden');
  if (status >= 300 && status < 400)
    return new InventoryFetchError(`${where}: HTTP ${status} (redirects are not followed)`, 'HTTPError');
  return new InventoryFetchError(`${where}: HTTP ${status}`, 'HTTPError');
}

/** One page's JSON, and its size in bytes. */
export async function fetchPage(url: URL, options: FetchOptions): Promise<{ json: unknown; bytes: number }> {
  const where = `GET ${url.origin}${url.pathname}`;
  const maxBytes = options.maxPageBytes ?? MAX_PAGE_BYTES;
  const body = await new Promise<Buffer>((resolve, reject) => {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'switchforge-operator',
    };
    if (options.token !== undefined) headers.authorization = `Token ${options.token}`;
    const onResponse = (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        reject(statusError(status, where, options.token !== undefined));
        return;
      }
      res.on('error', (e) => reject(classify(e, where)));
      const tooLarge = () => {
        reject(
          new InventoryFetchError(`${where}: the page is larger than ${maxBytes} bytes`, 'ResponseTooLarge'),
        );
        res.destroy();
      };
      if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
        tooLarge();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) tooLarge();
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
    };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(
            url,
            {
              method: 'GET',
              headers,
              ...(options.ca ? { ca: options.ca } : {}),
              rejectUnauthorized: options.insecureSkipVerify !== true,
            },
            onResponse,
          )
        : httpRequest(url, { method: 'GET', headers }, onResponse);
    const timer = setTimeout(() => {
      reject(new InventoryFetchError(`${where}: no complete answer in ${options.timeoutMs} ms`, 'Timeout'));
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (e) => reject(classify(e, where)));
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
  try {
    return { json: JSON.parse(body.toString('utf8')) as unknown, bytes: body.length };
  } catch (e) {
    throw new InventoryFetchError(`${where}: the body is not JSON (${(e as Error).message})`, 'InvalidJSON');
  }
}

/** Every entry the inventory lists, following next links; an error when a bound is passed (nothing half-read is used). */
export async function fetchInventory(options: FetchOptions): Promise<FetchedInventory> {
  const base = sourceUrl(options.url);
  const entries: unknown[] = [];
  const seen = new Set<string>();
  let url: URL | undefined = base;
  let pages = 0;
  let bytes = 0;
  while (url !== undefined) {
    if (pages === options.maxPages)
      throw new InventoryFetchError(
        `the inventory has more than ${options.maxPages} pages: raise source.maxPages or narrow the URL's filter`,
        'TooManyPages',
      );
    seen.add(url.href);
    const left = (options.maxTotalBytes ?? MAX_INVENTORY_BYTES) - bytes;
    if (left <= 0)
      throw new InventoryFetchError(
        `the inventory's pages pass ${bytes} bytes, all together`,
        'ResponseTooLarge',
      );
    const maxPageBytes = Math.min(options.maxPageBytes ?? MAX_PAGE_BYTES, left);
    const fetched = await fetchPage(url, { ...options, maxPageBytes });
    bytes += fetched.bytes;
    const { results, next } = pageEntries(fetched.json);
    pages += 1;
    entries.push(...results);
    if (entries.length > options.maxEntries)
      throw new InventoryFetchError(
        `the inventory lists more than ${options.maxEntries} entries: raise source.maxEntries or narrow the URL's filter`,
        'TooManyEntries',
      );
    url = nextPageUrl(base, next);
    if (url !== undefined && seen.has(url.href))
      throw new InventoryFetchError(
        `the next link ${url.pathname}${url.search} repeats a page`,
        'InvalidNextLink',
      );
  }
  return { entries, pages };
}
