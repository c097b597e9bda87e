import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveFeed } from './live-feed.js';
import { LIVE_PATH } from '@switchforge/platform/device-worker';
import { startLiveServer, type LiveServer } from './live-server.js';
import type { WireMessage } from '@switchforge/platform/live-wire';

const device = 'ns-a/leaf1';
let feed: LiveFeed;
let server: LiveServer;

before(async () => {
  feed = new LiveFeed({ retention: { maxBatches: 50 } });
  server = await startLiveServer(feed, {
    host: '127.0.0.1',
    port: 0,
    heartbeatMs: 200,
    highWaterBytes: 16 * 1024,
  });
});
after(() => server.close());

function publish(value: number, padding = 0): number {
  return feed.publish({
    device,
    samples: [
      { device, path: '/p', labels: { pad: 'x'.repeat(padding) }, timestampNs: BigInt(value), value },
    ],
  })!.seq;
}

/** Opens a stream and collects its parsed messages. */
function open(query: string): Promise<{
  res: IncomingMessage;
  messages: WireMessage[];
  ended: Promise<void>;
  next: (n: number) => Promise<WireMessage[]>;
}> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${server.port}${LIVE_PATH}?${query}`, (res) => {
      const messages: WireMessage[] = [];
      const ended = new Promise<void>((r) => res.on('end', () => r()));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let i;
        while ((i = buffer.indexOf('\n')) >= 0) {
          messages.push(JSON.parse(buffer.slice(0, i)) as WireMessage);
          buffer = buffer.slice(i + 1);
        }
      });
      const next = async (n: number): Promise<WireMessage[]> => {
        for (let t = 0; t < 200 && messages.filter((m) => m.type !== 'heartbeat').length < n; t++)
          await sleep(10);
        return messages.filter((m) => m.type !== 'heartbeat');
      };
      resolve({ res, messages, ended, next });
    }).on('error', reject);
  });
}

test('a reader with a held sequence gets the batches after it, then live ones, in order', async () => {
  const s1 = publish(1);
  const s2 = publish(2);
  const s3 = publish(3);
  const stream = await open(`device=${encodeURIComponent(device)}&since=${s1}`);
  const s4 = publish(4);
  const got = await stream.next(3);
  stream.res.destroy();
  assert.deepEqual(
    got.map((m) => m.type === 'batch' && m.seq),
    [s2, s3, s4],
  );
});

test('a reader without since follows live only', async () => {
  publish(10);
  const stream = await open(`device=${encodeURIComponent(device)}`);
  await sleep(50);
  const s = publish(11);
  const got = await stream.next(1);
  stream.res.destroy();
  assert.deepEqual(
    got.map((m) => m.type === 'batch' && m.seq),
    [s],
  );
});

test('a since older than the ring gets a gap marker before the oldest batch held', async () => {
  const stream = await open(`device=${encodeURIComponent(device)}&since=1&follow=0`);
  await stream.ended;
  const first = stream.messages[0];
  assert.equal(first?.type, 'gap');
  assert.ok(stream.messages.length > 1, 'the held batches follow the marker');
});

test('bad requests get 400 and unknown paths 404', async () => {
  const r400 = await fetch(`http://127.0.0.1:${server.port}${LIVE_PATH}?since=abc&device=x`);
  assert.equal(r400.status, 400);
  const r404 = await fetch(`http://127.0.0.1:${server.port}/nope`);
  assert.equal(r404.status, 404);
});

test('heartbeats tell an idle reader the head sequence', async () => {
  const head = publish(20);
  const stream = await open(`device=${encodeURIComponent(device)}`);
  await sleep(450);
  stream.res.destroy();
  const hb = stream.messages.find((m) => m.type === 'heartbeat');
  assert.deepEqual(hb, { type: 'heartbeat', device, head });
});

test('a reader that stops reading costs no more than its socket buffer, and later resumes with a gap marker', async () => {
  const stream = await open(`device=${encodeURIComponent(device)}`);
  stream.res.pause();
  await sleep(20);
  // Publish until the kernel's socket buffers (tens of MB on loopback) are full and the server
  // has to hold back; it must never hold more than its high-water mark plus one line.
  let reader: ReturnType<LiveServer['readers']>[number] | undefined;
  for (let v = 0; v < 20_000 && !reader; v++) {
    publish(100 + v, 10_000);
    const r = server.readers()[0];
    assert.ok(r && r.bufferedBytes < 16 * 1024 + 12_000, `buffered ${r?.bufferedBytes} bytes`);
    if (v % 100 === 0) await sleep(5);
    if (r.waitingForDrain) reader = r;
  }
  assert.ok(reader, 'the server stopped writing to the slow reader');
  // Fall further behind than the ring holds (50 batches).
  for (let v = 0; v < 100; v++) publish(50_000 + v, 10_000);
  assert.ok(server.readers()[0]!.bufferedBytes < 16 * 1024 + 12_000);
  const last = feed.head(device);
  stream.res.resume();
  for (let t = 0; t < 300; t++) {
    const m = stream.messages.at(-1);
    if (m?.type === 'batch' && m.seq === last) break;
    await sleep(10);
  }
  stream.res.destroy();
  const kinds = stream.messages.filter((m) => m.type !== 'heartbeat');
  assert.ok(
    kinds.some((m) => m.type === 'gap' && m.reason === 'evicted'),
    'it was told what it missed',
  );
  const seqs = kinds.flatMap((m) => (m.type === 'batch' ? [m.seq] : []));
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'in order',
  );
  assert.equal(seqs.at(-1), last, 'and caught up to the head');
});
