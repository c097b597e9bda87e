/**
 * The hub's catch-up: a subscriber that brings the last sequence it saw gets every later batch
 * once, in order, from this replica's ring or else from the worker's, and a gap marker for what
 * neither holds. The worker here is a small HTTP server on loopback speaking the live wire
 * format (`@switchforge/platform/live-wire`): it streams on a follow request and replays on
 * `follow=0`, as worker/src/live/live-server.ts does.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { LIVE_PATH } from '@switchforge/platform/device-worker';
import type { WireBatch, WireGap } from '@switchforge/platform/live-wire';
import { LiveHub, type LiveEvent } from './live-hub.js';

const DEVICE = 'lab/leaf1';

function batch(seq: number, prev?: number): WireBatch {
  return {
    type: 'batch',
    device: DEVICE,
    seq,
    ...(prev === undefined ? {} : { prev }),
    committedAt: seq / 1000,
    samples: [
      {
        path: '/interfaces/interface/state/counters/in-octets',
        labels: { name: 'Ethernet1' },
        ts: '1',
        value: seq,
      },
    ],
  };
}

/** A worker's live server: `held` is its ring; `publish` streams to followers. */
class FakeWorker {
  held: WireBatch[] = [];
  /** Replay requests answered with HTTP 500 while true. */
  failReplay = false;
  readonly replays: number[] = [];
  /** Follow requests accepted so far (never decreases), so a test can wait for a hub to be streaming. */
  follows = 0;
  private followers = new Set<ServerResponse>();
  private server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== LIVE_PATH) return void res.writeHead(404).end();
      const since = url.searchParams.has('since') ? Number(url.searchParams.get('since')) : undefined;
      const follow = url.searchParams.get('follow') !== '0';
      if (!follow) {
        this.replays.push(since ?? -1);
        if (this.failReplay) return void res.writeHead(500).end();
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      if (since !== undefined) for (const line of this.replay(since)) res.write(`${JSON.stringify(line)}\n`);
      if (!follow) return void res.end();
      this.followers.add(res);
      this.follows += 1;
      res.on('close', () => this.followers.delete(res));
    });
  }

  private replay(since: number): Array<WireBatch | WireGap> {
    const first = this.held[0];
    const out: Array<WireBatch | WireGap> = [];
    if (first && first.prev !== undefined && since < first.prev) {
      out.push({ type: 'gap', device: DEVICE, since, resumeFrom: first.seq, reason: 'evicted' });
    }
    return [...out, ...this.held.filter((b) => b.seq > since)];
  }

  publish(b: WireBatch): void {
    this.held.push(b);
    for (const res of this.followers) res.write(`${JSON.stringify(b)}\n`);
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const res of this.followers) res.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** What one subscriber received, as `b<seq>` and `gap:<reason>:<since>-><resumeFrom>`. */
function recorder() {
  const seen: string[] = [];
  return {
    seen,
    sink: {
      deliver: (events: readonly LiveEvent[]) => {
        for (const e of events)
          seen.push(e.kind === 'batch' ? `b${e.seq}` : `gap:${e.reason}:${e.since}->${e.resumeFrom}`);
      },
      close: () => undefined,
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('catching up a subscriber that brings its last sequence', async () => {
  const worker = new FakeWorker();
  const url = await worker.listen();
  const hubs: LiveHub[] = [];
  const hubFor = (ringBatches = 1024) => {
    const hub = new LiveHub(
      { locate: async () => ({ url, holder: 'leaf1-worker-a' }) },
      { ringBatches, lingerMs: 0 },
    );
    hubs.push(hub);
    return hub;
  };
  /** Attaches the first subscriber and waits until its hub follows the worker: a batch published before that is not the hub's to see. */
  const attachFollowing = async (hub: LiveHub, sink: ReturnType<typeof recorder>['sink']) => {
    const before = worker.follows;
    const leave = hub.attach('lab', 'leaf1', {}, sink);
    await until(() => worker.follows > before, 'the hub to follow the worker');
    return leave;
  };
  after(async () => {
    await Promise.all(hubs.map((h) => h.close()));
    await worker.close();
  });

  test('from the replica’s own ring: the batches after its sequence, once, and then live ones', async () => {
    worker.held = [];
    const hub = hubFor();
    const first = recorder();
    const leave = await attachFollowing(hub, first.sink);
    for (const seq of [101, 102, 103]) worker.publish(batch(seq, seq === 101 ? undefined : seq - 1));
    await until(() => first.seen.length === 3, 'the first subscriber');
    const replaysBefore = worker.replays.length;
    const late = recorder();
    const leaveLate = hub.attach('lab', 'leaf1', { since: 101 }, late.sink);
    worker.publish(batch(104, 103));
    await until(() => late.seen.length === 3, 'the late subscriber');
    assert.deepEqual(late.seen, ['b102', 'b103', 'b104']);
    assert.equal(worker.replays.length, replaysBefore, 'the local ring sufficed: no request to the worker');
    leave();
    leaveLate();
  });

  test('from the worker’s ring when the replica’s does not reach back, without duplicates', async () => {
    worker.held = [];
    const hub = hubFor(2);
    const first = recorder();
    await attachFollowing(hub, first.sink);
    for (const seq of [201, 202, 203, 204, 205])
      worker.publish(batch(seq, seq === 201 ? undefined : seq - 1));
    await until(() => first.seen.length === 5, 'the first subscriber');
    const late = recorder();
    hub.attach('lab', 'leaf1', { since: 201 }, late.sink);
    await until(() => worker.replays.includes(201), 'a replay request');
    worker.publish(batch(206, 205));
    await until(() => late.seen.length >= 5, 'the late subscriber');
    await sleep(50);
    assert.deepEqual(late.seen, ['b202', 'b203', 'b204', 'b205', 'b206']);
  });

  test('what the worker no longer holds arrives as a gap marker, then everything it holds', async () => {
    worker.held = [batch(305, 304), batch(306, 305)];
    const hub = hubFor(1);
    const first = recorder();
    await attachFollowing(hub, first.sink);
    worker.publish(batch(307, 306));
    await until(() => first.seen.includes('b307'), 'the first subscriber');
    const late = recorder();
    hub.attach('lab', 'leaf1', { since: 300 }, late.sink);
    await until(() => late.seen.length >= 4, 'the late subscriber');
    assert.deepEqual(late.seen, ['gap:evicted:300->305', 'b305', 'b306', 'b307']);
  });

  test('a worker that cannot replay gives the subscriber a catch-up-failed gap, and live batches go on', async () => {
    worker.held = [];
    const hub = hubFor(1);
    const first = recorder();
    await attachFollowing(hub, first.sink);
    worker.publish(batch(401));
    worker.publish(batch(402, 401));
    await until(() => first.seen.length === 2, 'the first subscriber');
    worker.failReplay = true;
    const late = recorder();
    hub.attach('lab', 'leaf1', { since: 390 }, late.sink);
    await until(() => late.seen.length >= 1, 'the gap');
    worker.failReplay = false;
    worker.publish(batch(403, 402));
    await until(() => late.seen.includes('b403'), 'the live batch');
    assert.equal(late.seen[0], 'gap:catch-up-failed:390->0');
    assert.ok(!late.seen.includes('b401'), 'nothing it could not be given is invented');
  });
});
