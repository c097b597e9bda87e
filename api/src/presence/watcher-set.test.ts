import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  diffWatchers,
  expiredReplicas,
  liveWatchers,
  watchersChanged,
  type PresenceRow,
} from './watcher-set.js';

const t0 = new Date('2026-12-03T21:00:00Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);
const row = (replicaId: string, user: string, sinceMs: number): PresenceRow => ({
  replicaId,
  namespace: 'lab',
  kind: 'Device',
  name: 'leaf1',
  user,
  since: at(sinceMs),
});

test('a replica whose heartbeat is older than the lease is expired, a current one is not', () => {
  const beats = new Map([
    ['a', at(9_000)],
    ['b', at(4_000)],
    ['c', at(5_000)],
  ]);
  assert.deepEqual([...expiredReplicas(beats, at(10_000), 5_000)], ['b']);
});

test('rows of an expired or unknown replica are not live watchers', () => {
  const beats = new Map([
    ['a', at(9_000)],
    ['dead', at(1_000)],
  ]);
  const rows = [row('a', 'alice', 0), row('dead', 'bob', 0), row('gone', 'carol', 0)];
  assert.deepEqual(liveWatchers(rows, beats, at(10_000), 5_000), [{ user: 'alice', since: at(0) }]);
});

test('one user on two replicas is one watcher since their first subscription', () => {
  const beats = new Map([
    ['a', at(9_000)],
    ['b', at(9_000)],
  ]);
  const rows = [row('b', 'zoe', 3_000), row('a', 'zoe', 1_000), row('a', 'alice', 2_000)];
  assert.deepEqual(liveWatchers(rows, beats, at(10_000), 5_000), [
    { user: 'alice', since: at(2_000) },
    { user: 'zoe', since: at(1_000) },
  ]);
});

test('the diff names who joined and who left, and an earlier since alone is no change', () => {
  const before = [
    { user: 'alice', since: at(0) },
    { user: 'bob', since: at(0) },
  ];
  const after = [
    { user: 'alice', since: at(5) },
    { user: 'carol', since: at(7) },
  ];
  const diff = diffWatchers(before, after);
  assert.deepEqual(diff, {
    added: [{ user: 'carol', since: at(7) }],
    removed: [{ user: 'bob', since: at(0) }],
  });
  assert.ok(watchersChanged(diff));
  assert.equal(watchersChanged(diffWatchers(before, [...before].reverse())), false);
});
