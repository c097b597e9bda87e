/** Reading an inventory's pages from a local HTTP server that answers as NetBox does, and as it should not. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  InventoryFetchError,
  fetchInventory,
  nextPageUrl,
  sourceUrl,
  type FetchOptions,
} from './inventory-fetch.js';

type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void;
const routes = new Map<string, Handler>();
const seen: IncomingMessage[] = [];
let server: Server;
let base: string;

const json = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
/** NetBox's paginated envelope. */
const page = (count: number, next: string | null, results: unknown[]) => ({
  count,
  next,
  previous: null,
  results,
});
const device = (name: string) => ({ id: name.length, name, primary_ip4: { address: '192.0.2.1/24' } });

before(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const handler = routes.get(new URL(req.url!, 'http://x').pathname);
    if (handler) handler(req, res, base);
    else json(res, { detail: 'Not found.' }, 404);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  routes.set('/api/dcim/devices/', (req, res, b) => {
    const offset = Number(new URL(req.url!, b).searchParams.get('offset') ?? 0);
    if (offset === 0)
      json(res, page(3, `${b}/api/dcim/devices/?limit=2&offset=2`, [device('leaf1'), device('leaf2')]));
    else json(res, page(3, null, [device('spine1')]));
  });
  routes.set('/token', (req, res) =>
    req.headers.authorization === 'Token 0123456789abcdef'
      ? json(res, page(0, null, []))
      : json(res, { detail: 'Invalid token' }, 401),
  );
  routes.set('/forbidden', (_req, res) => json(res, { detail: 'no' }, 403));
  routes.set('/error', (_req, res) => json(res, { detail: 'boom' }, 500));
  routes.set('/redirect', (_req, res) => {
    res.writeHead(302, { location: '/api/dcim/devices/' });
    res.end();
  });
  routes.set('/not-json', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>login</html>');
  });
  routes.set('/shape', (_req, res) => json(res, { devices: [] }));
  routes.set('/bare', (_req, res) => json(res, [device('a'), device('b')]));
  routes.set('/big', (_req, res) => json(res, page(1, null, [{ name: 'x'.repeat(4096) }])));
  routes.set('/big-chunked', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"results": ["');
    res.write('x'.repeat(4096));
    res.end('"]}');
  });
  routes.set('/slow', () => undefined);
  routes.set('/stall', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"results": [');
  });
  routes.set('/loop', (_req, res, b) => json(res, page(9, `${b}/loop`, [device('a')])));
  routes.set('/endless', (req, res, b) => {
    const n = Number(new URL(req.url!, b).searchParams.get('n') ?? 0);
    json(res, page(99, `${b}/endless?n=${n + 1}`, [device(`d${n}`)]));
  });
  routes.set('/elsewhere', (_req, res) => json(res, page(2, 'https://evil.example.net/api/', [device('a')])));
  routes.set('/proxied', (_req, res) =>
    // A proxy in front of NetBox: the link says http on another port, the host is the same.
    json(res, page(2, 'http://127.0.0.1:1/api/dcim/devices/?limit=2&offset=2', [device('a')])),
  );
});

after(() => server.close());

const options = (path: string, extra: Partial<FetchOptions> = {}): FetchOptions => ({
  url: `${base}${path}`,
  timeoutMs: 2000,
  maxPages: 10,
  maxEntries: 100,
  ...extra,
});

async function failure(o: FetchOptions): Promise<InventoryFetchError> {
  try {
    await fetchInventory(o);
  } catch (e) {
    assert.ok(e instanceof InventoryFetchError, String(e));
    return e;
  }
  assert.fail('the fetch succeeded');
}

describe('reading an inventory over HTTP', () => {
  test('follows next links across pages and keeps the entries in order', async () => {
    const r = await fetchInventory(options('/api/dcim/devices/?limit=2'));
    assert.equal(r.pages, 2);
    assert.deepEqual(
      r.entries.map((e) => (e as { name: string }).name),
      ['leaf1', 'leaf2', 'spine1'],
    );
  });

  test('sends the token as NetBox wants it, and asks for JSON', async () => {
    seen.length = 0;
    const r = await fetchInventory(options('/token', { token: '0123456789abcdef' }));
    assert.equal(r.pages, 1);
    assert.equal(seen[0]?.headers.authorization, 'Token 0123456789abcdef');
    assert.equal(seen[0]?.headers.accept, 'application/json');
  });

  test('reads a page that is a bare JSON array, with no next page', async () => {
    const r = await fetchInventory(options('/bare'));
    assert.deepEqual([r.pages, r.entries.length], [1, 2]);
  });

  test('reads a next link on the same host from the configured origin, not the one the link names', async () => {
    const r = await fetchInventory(options('/proxied'));
    assert.deepEqual(
      r.entries.map((e) => (e as { name: string }).name),
      ['a', 'spine1'],
    );
  });

  const failures: [string, string, Partial<FetchOptions>, string, RegExp][] = [
    [
      'a refused token is TokenRefused, without the token in the message',
      '/token',
      { token: 'wrong-token-value' },
      'TokenRefused',
      /token refused \(HTTP 401\)/,
    ],
    ['a 401 without a token asks for one', '/token', {}, 'TokenRefused', /a token is required \(HTTP 401\)/],
    ['a 403 is Forbidden', '/forbidden', {}, 'Forbidden', /HTTP 403/],
    ['a 500 is HTTPError with the status', '/error', {}, 'HTTPError', /HTTP 500/],
    ['a redirect is not followed', '/redirect', {}, 'HTTPError', /HTTP 302 \(redirects are not followed\)/],
    ['a body that is not JSON is InvalidJSON', '/not-json', {}, 'InvalidJSON', /not JSON/],
    ['JSON without a results array is UnexpectedShape', '/shape', {}, 'UnexpectedShape', /results array/],
    [
      'a page over the size bound is ResponseTooLarge',
      '/big',
      { maxPageBytes: 1024 },
      'ResponseTooLarge',
      /larger than 1024 bytes/,
    ],
    [
      'a chunked page over the size bound is ResponseTooLarge',
      '/big-chunked',
      { maxPageBytes: 1024 },
      'ResponseTooLarge',
      /larger than 1024/,
    ],
    [
      'a body that stalls half way is a Timeout',
      '/stall',
      { timeoutMs: 200 },
      'Timeout',
      /no complete answer/,
    ],
    [
      'pages over the bound on all pages together are ResponseTooLarge',
      '/endless',
      { maxTotalBytes: 400 },
      'ResponseTooLarge',
      /larger than|all together/,
    ],
    [
      'a server that never answers is a Timeout',
      '/slow',
      { timeoutMs: 200 },
      'Timeout',
      /no complete answer in 200 ms/,
    ],
    ['a next link to the page itself is InvalidNextLink', '/loop', {}, 'InvalidNextLink', /repeats a page/],
    [
      'more pages than maxPages is TooManyPages',
      '/endless',
      { maxPages: 3 },
      'TooManyPages',
      /more than 3 pages/,
    ],
    [
      'more entries than maxEntries is TooManyEntries',
      '/api/dcim/devices/',
      { maxEntries: 2 },
      'TooManyEntries',
      /more than 2 entries/,
    ],
    [
      'a next link to another host is InvalidNextLink: the token stays home',
      '/elsewhere',
      { token: 't' },
      'InvalidNextLink',
      /evil\.example\.net, not 127\.0\.0\.1/,
    ],
  ];
  for (const [name, path, extra, reason, message] of failures) {
    test(name, async () => {
      const e = await failure(options(path, extra));
      assert.equal(e.reason, reason);
      assert.match(e.message, message);
      assert.ok(!e.message.includes('wrong-token-value'));
    });
  }

  test('a port where nothing listens is ConnectionFailed', async () => {
    const e = await failure({ ...options('/'), url: 'http://127.0.0.1:1/api/' });
    assert.equal(e.reason, 'ConnectionFailed');
    assert.match(e.message, /ECONNREFUSED/);
  });
});

describe('the configured URL and next links', () => {
  const urls: [string, string | undefined][] = [
    ['https://netbox.example.net/api/dcim/devices/?site=ams1', undefined],
    ['http://127.0.0.1:8000/api/dcim/devices/', undefined],
    ['ftp://netbox.example.net/devices', 'InvalidURL'],
    ['file:///etc/passwd', 'InvalidURL'],
    ['https://admin:pw@netbox.example.net/api/', 'InvalidURL'],
    ['netbox.example.net/api', 'InvalidURL'],
  ];
  for (const [url, reason] of urls) {
    test(`${url} is ${reason ?? 'read'}`, () => {
      if (reason === undefined) assert.equal(sourceUrl(url).href.length > 0, true);
      else
        assert.throws(
          () => sourceUrl(url),
          (e: unknown) => e instanceof InventoryFetchError && e.reason === reason,
        );
    });
  }

  const origin = new URL('https://netbox.example.net/api/dcim/devices/?limit=50');
  const links: [unknown, string | undefined][] = [
    [null, undefined],
    ['', undefined],
    [
      'https://netbox.example.net/api/dcim/devices/?limit=50&offset=50',
      'https://netbox.example.net/api/dcim/devices/?limit=50&offset=50',
    ],
    [
      'http://netbox.example.net/api/dcim/devices/?offset=50',
      'https://netbox.example.net/api/dcim/devices/?offset=50',
    ],
    ['/api/dcim/devices/?offset=50', 'https://netbox.example.net/api/dcim/devices/?offset=50'],
  ];
  for (const [next, expected] of links) {
    test(`next ${JSON.stringify(next)} is read as ${expected ?? 'the last page'}`, () => {
      assert.equal(nextPageUrl(origin, next)?.href, expected);
    });
  }
  test('a next link that is not a string is refused', () => {
    assert.throws(() => nextPageUrl(origin, 42), /not a string/);
  });
});
