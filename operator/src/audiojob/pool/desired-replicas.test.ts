import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredReplicas } from './desired-replicas.js';

const settings = { minReplicas: 1, maxReplicas: 5, backlogPerReplica: 4, scaleDownCooldownMs: 60_000 };
const now = new Date('2025-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);

const cases: Array<[string, number, number, Date | undefined, number]> = [
  // [behaviour, current, backlog, lastScaleTime, expected]
  ['an idle pool stays at its minimum', 1, 0, undefined, 1],
  ['a backlog within what the replicas absorb changes nothing', 2, 8, ago(1), 2],
  ['a backlog over the threshold scales up at once to what it needs', 1, 9, ago(1), 3],
  ['scaling up ignores the cool-down', 2, 13, ago(0), 4],
  ['scaling up stops at the maximum', 2, 100, ago(1), 5],
  ['an empty queue scales down by one after the cool-down', 4, 0, ago(61), 3],
  ['no scale-down inside the cool-down', 4, 0, ago(30), 4],
  ['a pool never scaled before may scale down', 3, 0, undefined, 2],
  ['scale-down stops at the minimum', 1, 0, ago(3600), 1],
  ['a pool below its minimum is raised to it', 0, 0, ago(1), 1],
  ['a pool above its maximum is lowered to it, cool-down or not', 9, 50, ago(1), 5],
  ['a backlog that still needs the replicas keeps them', 3, 10, ago(3600), 3],
  ['a negative backlog reading counts as empty', 2, -3, ago(3600), 1],
];

for (const [name, current, backlog, last, expected] of cases) {
  test(name, () => {
    assert.equal(desiredReplicas(current, backlog, settings, last, now), expected);
  });
}

test('a minimum of zero lets an idle pool scale to nothing and back', () => {
  const zero = { ...settings, minReplicas: 0 };
  assert.equal(desiredReplicas(1, 0, zero, ago(120), now), 0);
  assert.equal(desiredReplicas(0, 1, zero, ago(0), now), 1);
});
