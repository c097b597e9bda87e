import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedQueue } from './bounded-queue.js';

test('a full queue drops its oldest items and counts them', async () => {
  let dropped = 0;
  const q = new BoundedQueue<number>(3, (n) => (dropped += n));
  for (let i = 1; i <= 5; i++) q.push(i);
  assert.equal(q.size, 3);
  assert.equal(dropped, 2);
  assert.equal(q.takeDropped(), 2);
  assert.equal(q.takeDropped(), 0);
  const got = [(await q.next()).value, (await q.next()).value, (await q.next()).value];
  assert.deepEqual(got, [3, 4, 5]);
});

test('a waiting reader gets the next item at once and closing ends the iteration', async () => {
  let closed = false;
  const q = new BoundedQueue<string>(2, undefined, () => (closed = true));
  const pending = q.next();
  q.push('a');
  assert.deepEqual(await pending, { value: 'a', done: false });
  const waiting = q.next();
  await q.return();
  assert.deepEqual(await waiting, { value: undefined, done: true });
  assert.ok(closed);
  q.push('ignored');
  assert.equal(q.size, 0);
});

test('memory stays bounded over many pushes without reads', () => {
  const q = new BoundedQueue<number>(10);
  for (let i = 0; i < 100_000; i++) q.push(i);
  assert.equal(q.size, 10);
  assert.equal(q.droppedTotal, 99_990);
});
