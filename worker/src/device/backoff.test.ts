import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('the ceiling doubles per attempt up to the cap, and reset starts over', () => {
  const highest = new Backoff(100, 1000, () => 1);
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => highest.next()),
    [100, 200, 400, 800, 1000],
  );
  highest.reset();
  assert.equal(highest.next(), 100);
});

test('delays are jittered below the ceiling but never shorter than half the base', () => {
  const lowest = new Backoff(100, 1000, () => 0);
  assert.equal(lowest.next(), 50);
  const b = new Backoff(100, 10_000);
  for (let i = 0; i < 50; i++) {
    const d = b.next();
    assert.ok(d >= 50 && d <= 10_000, String(d));
  }
});
