import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceUpdate, gapMarkerSequence } from './subscription-resolvers.js';

test('a gap marker carries the sequence just below the batch that follows it', () => {
  const gap = {
    kind: 'gap',
    device: 'a/leaf1',
    since: 100,
    resumeFrom: 5_000,
    reason: 'worker-restarted',
  } as const;
  const update = deviceUpdate('a', 'leaf1', gap, 0);
  assert.equal(update.sequence, 4_999);
  assert.deepEqual(update.gap, { afterSequence: 100, resumedAt: 5_000, reason: 'worker-restarted' });
});

test('a marker without a resume point (failed catch-up) keeps the sequence the client had', () => {
  assert.equal(gapMarkerSequence({ since: 100, resumeFrom: 0 }), 100);
});
