import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SubjectRateLimiter } from './rate-limit.js';

test('a subject may spend its burst at once, then only what the rate refills', () => {
  let now = 0;
  const limiter = new SubjectRateLimiter({ perSecond: 2, burst: 3 }, () => now);
  assert.deepEqual(
    [1, 2, 3, 4].map(() => limiter.take('alice')),
    [true, true, true, false],
  );
  now += 500;
  assert.equal(limiter.take('alice'), true);
  assert.equal(limiter.take('alice'), false);
});

test('subjects have separate buckets', () => {
  const limiter = new SubjectRateLimiter({ perSecond: 1, burst: 1 }, () => 0);
  assert.equal(limiter.take('alice'), true);
  assert.equal(limiter.take('alice'), false);
  assert.equal(limiter.take('bob'), true);
});
