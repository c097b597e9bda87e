import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, backoffDelay } from './backoff.js';

test('the ceiling doubles per attempt up to the cap, and reset starts over', () => {
  const highest = new Backoff({ baseMs: 100, capMs: 1000, random: () => 1 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => highest.next()),
    [100, 200, 400, 800, 1000],
  );
  assert.equal(highest.attempts, 5);
  highest.reset();
  assert.equal(highest.next(), 100);
});

test('a delay is never below half its ceiling nor above it (equal jitter)', () => {
  assert.equal(backoffDelay(0, { baseMs: 100, capMs: 1000, random: () => 0 }), 50);
  assert.equal(backoffDelay(3, { baseMs: 100, capMs: 1000, random: () => 0 }), 400);
  for (let attempt = 0; attempt < 40; attempt++) {
    const ceiling = Math.min(10_000, 100 * 2 ** attempt);
    const d = backoffDelay(attempt, { baseMs: 100, capMs: 10_000 });
    assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}: ${d}`);
  }
});

test('delays of one attempt are spread, not in lockstep', () => {
  const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(4, { baseMs: 100, capMs: 60_000 })));
  assert.ok(delays.size > 10, `${delays.size} distinct delays of 20`);
});
