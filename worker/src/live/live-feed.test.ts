import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveFeed } from './live-feed.js';
import type { CommittedBatch } from '../device/metric-writer.js';
import type { WireBatch } from '@switchforge/platform/live-wire';

const device = 'ns-a/leaf1';

function batch(value: number, path = '/interfaces/interface/state/counters/in-octets'): CommittedBatch {
  return {
    device,
    samples: [
      {
        device,
        path,
        labels: { name: 'Ethernet1' },
        timestampNs: 1_700_000_000_000_000_123n + BigInt(value),
        value,
      },
    ],
  };
}

test('sequences strictly increase even when the wall clock steps back', () => {
  let now = 1_700_000_000_000;
  const feed = new LiveFeed({ now: () => now });
  const a = feed.publish(batch(1))!;
  now -= 5_000;
  const b = feed.publish(batch(2))!;
  const c = feed.publish(batch(3))!;
  assert.ok(b.seq > a.seq && c.seq > b.seq);
  assert.equal(b.prev, a.seq);
  assert.equal(c.prev, b.seq);
  assert.equal(a.prev, undefined);
});

test('a restarted worker issues sequences above its predecessor once the clock has moved on', () => {
  let now = 1_700_000_000_000;
  const before = new LiveFeed({ now: () => now });
  const last = before.publish(batch(1))!;
  now += 1;
  const after = new LiveFeed({ now: () => now });
  assert.ok(after.publish(batch(2))!.seq > last.seq);
});

test('timestamps travel as decimal nanosecond strings and deletes as a flag', () => {
  const feed = new LiveFeed();
  const wire = feed.publish({
    device,
    samples: [
      {
        device,
        path: '/system/state/hostname',
        labels: {},
        timestampNs: 1_700_000_000_123_456_789n,
        value: undefined,
      },
    ],
  })!;
  assert.deepEqual((JSON.parse(wire.line) as WireBatch).samples, [
    { path: '/system/state/hostname', labels: {}, ts: '1700000000123456789', deleted: true },
  ]);
  assert.equal(feed.publish({ device, samples: [] }), undefined, 'an empty batch gets no sequence');
});

test('replay after a held sequence returns the later batches in order and no gap', () => {
  const feed = new LiveFeed();
  const seqs = [1, 2, 3, 4].map((v) => feed.publish(batch(v))!.seq);
  const r = feed.replay(device, seqs[1]!);
  assert.equal(r.kind, 'entries');
  assert.deepEqual(
    r.entries.map((e) => e.seq),
    seqs.slice(2),
  );
  assert.deepEqual(feed.replay(device, seqs[3]!), { kind: 'entries', entries: [] });
});

test('the ring keeps at most maxBatches and reports a gap to a reader whose sequence was evicted', () => {
  const feed = new LiveFeed({ retention: { maxBatches: 3 } });
  const seqs = [1, 2, 3, 4, 5].map((v) => feed.publish(batch(v))!.seq);
  const r = feed.replay(device, seqs[0]!);
  assert.equal(r.kind, 'gap');
  assert.equal(r.kind === 'gap' && r.gap.reason, 'evicted');
  assert.equal(r.kind === 'gap' && r.gap.resumeFrom, seqs[2]);
  assert.deepEqual(
    r.entries.map((e) => e.seq),
    seqs.slice(2),
  );
});

test('the ring evicts by serialised bytes and by age', () => {
  let now = 1_700_000_000_000;
  const bySize = new LiveFeed({ retention: { maxBytes: 600 }, now: () => now });
  for (let v = 0; v < 10; v++) bySize.publish(batch(v));
  const held = bySize.replay(device, undefined).entries;
  assert.ok(held.length < 10 && held.length > 0);
  assert.ok(held.reduce((n, e) => n + e.bytes, 0) <= 600);

  const byAge = new LiveFeed({ retention: { maxAgeMs: 1_000 }, now: () => now });
  const old = byAge.publish(batch(1))!;
  now += 2_000;
  const fresh = byAge.publish(batch(2))!;
  assert.deepEqual(
    byAge.replay(device, undefined).entries.map((e) => e.seq),
    [fresh.seq],
  );
  const r = byAge.replay(device, old.seq - 1);
  assert.equal(r.kind, 'gap');
});

test('a sequence from an earlier worker gets a gap marked worker-restarted, then everything held', () => {
  const feed = new LiveFeed();
  const first = feed.publish(batch(1))!;
  const r = feed.replay(device, first.seq - 10_000);
  assert.equal(r.kind, 'gap');
  assert.equal(r.kind === 'gap' && r.gap.reason, 'worker-restarted');
  assert.deepEqual(
    r.entries.map((e) => e.seq),
    [first.seq],
  );
});

test('a reader that has everything, with nothing newer evicted, gets no gap', () => {
  const feed = new LiveFeed({ retention: { maxBatches: 1 } });
  feed.publish(batch(1));
  const last = feed.publish(batch(2))!;
  assert.deepEqual(feed.replay(device, last.seq), { kind: 'entries', entries: [] });
});

test('a reader resuming from the sequence just below a restarted worker’s first batch gets that batch and no second gap', () => {
  const before = new LiveFeed();
  const old = before.publish(batch(1))!;
  const restarted = new LiveFeed({ now: () => Date.now() + 1_000 });
  const first = restarted.publish(batch(2))!;
  const r = restarted.replay(device, old.seq);
  assert.equal(r.kind, 'gap');
  assert.equal(r.kind === 'gap' && r.gap.resumeFrom, first.seq);
  // The API's marker carries resumeFrom - 1; a client that got the marker but not the batch resumes there.
  assert.deepEqual(
    restarted.replay(device, first.seq - 1).entries.map((e) => e.seq),
    [first.seq],
  );
  assert.equal(restarted.replay(device, first.seq - 1).kind, 'entries');
});

test('under memory pressure a ring keeps a quarter of what it held, grows no further, and regrows once pressure is off', () => {
  const feed = new LiveFeed({ retention: { maxBytes: 1024 ** 3 } });
  for (let i = 0; i < 100; i++) feed.publish(batch(i));
  const held = feed.heldBytes;
  feed.setMemoryPressure(true);
  assert.ok(
    feed.heldBytes <= held / 4,
    `${feed.heldBytes} of ${held} bytes kept, not a quarter of the 1 GiB bound`,
  );
  const underPressure = feed.heldBytes;
  for (let i = 100; i < 200; i++) feed.publish(batch(i));
  assert.ok(feed.heldBytes <= held / 4, 'no growth past the quarter while the pressure lasts');
  feed.setMemoryPressure(false);
  for (let i = 200; i < 300; i++) feed.publish(batch(i));
  assert.ok(feed.heldBytes > underPressure * 2, 'buffering again once the pressure is off');
});
