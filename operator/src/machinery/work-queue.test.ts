import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from './work-queue.js';

test('a key added many times while waiting is handed out once', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.length, 0);
});

test('a key is never handed to two workers at once; an add while processing brings it back after done', async () => {
  const q = new WorkQueue();
  q.add('a');
  const first = await q.get();
  q.add('a');
  assert.equal(q.length, 0, 'held back while being processed');
  const second = q.get();
  let handed = false;
  void second.then(() => (handed = true));
  await sleep(10);
  assert.equal(handed, false);
  q.done(first!);
  assert.equal(await second, 'a');
});

test('failures back off exponentially per key and forget resets the backoff', () => {
  const q = new WorkQueue({ baseMs: 100, maxMs: 1000 });
  const delays = [1, 2, 3, 4, 5].map(() => q.addRateLimited('a'));
  const ceilings = [100, 200, 400, 800, 1000];
  delays.forEach((d, i) =>
    assert.ok(
      d >= ceilings[i]! / 2 && d <= ceilings[i]!,
      `${d} within [${ceilings[i]! / 2}, ${ceilings[i]}]`,
    ),
  );
  assert.equal(q.failureCount('b'), 0, 'other keys are unaffected');
  q.forget('a');
  assert.equal(q.failureCount('a'), 0);
  q.shutDown();
});

test('a delayed add arrives after its delay, and the earliest of two delayed adds wins', async () => {
  const q = new WorkQueue();
  q.addAfter('a', 3000);
  q.addAfter('a', 30);
  const started = Date.now();
  assert.equal(await q.get(), 'a');
  const waited = Date.now() - started;
  assert.ok(waited >= 25 && waited < 2000, `waited ${waited} ms (the later add was due at 3000 ms)`);
  q.shutDown();
});

test('shutting down releases every waiting worker', async () => {
  const q = new WorkQueue();
  const waiting = [q.get(), q.get()];
  q.shutDown();
  assert.deepEqual(await Promise.all(waiting), [undefined, undefined]);
});
