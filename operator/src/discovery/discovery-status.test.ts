import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceDiscovery } from '@switchforge/platform/crd';
import { FAILED_RETRY_MS, failedStatus, nextRunInMs, runStatus } from './discovery-status.js';

const base: DeviceDiscovery = {
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'DeviceDiscovery',
  metadata: { name: 'lab', namespace: 'net', uid: 'u', generation: 3 },
  spec: {
    targets: ['127.0.0.1'],
    probes: [{ protocol: 'gnmi' }],
    credentialsSecretRef: { name: 'l' },
    schedule: { every: '10m' },
  },
};
const now = new Date('2026-12-03T12:00:00Z');

describe('the status of a run', () => {
  test('lists found, unreachable and refused targets with counts, and is Ready with the summary', () => {
    const s = runStatus(
      base,
      {
        missing: 1,
        verdicts: [
          {
            address: 'a',
            verdict: {
              kind: 'found',
              answer: { kind: 'answered', protocol: 'gnmi', port: 1, facts: { models: [] } },
            },
            device: 'a',
          },
          {
            address: 'b',
            verdict: { kind: 'refused', reason: 'AuthFailed', message: 'gnmi:1: AuthFailed: no' },
          },
          { address: 'c', verdict: { kind: 'unreachable', reason: 'Timeout', message: 'x'.repeat(5000) } },
        ],
      },
      now,
    );
    assert.deepEqual(s.found, [{ address: 'a', protocol: 'gnmi', port: 1, device: 'a' }]);
    assert.deepEqual(s.refused, [{ address: 'b', reason: 'AuthFailed', message: 'gnmi:1: AuthFailed: no' }]);
    assert.equal(s.unreachable?.[0]?.message.length, 1024);
    assert.deepEqual([s.foundCount, s.unreachableCount, s.refusedCount, s.missingCount], [1, 1, 1, 1]);
    assert.equal(s.observedGeneration, 3);
    assert.equal(s.lastRunTime, '2026-12-03T12:00:00Z');
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.reason, 'RunSucceeded');
    assert.equal(ready?.message, 'found 1, unreachable 1, refused 1, missing 1');
  });

  test('a run that could not start is Ready False with its reason, and keeps the last lists', () => {
    const previous = runStatus(base, { missing: 0, verdicts: [] }, now);
    const s = failedStatus(
      { ...base, status: { ...previous, foundCount: 4 } },
      'SecretNotFound',
      'Secret net/l not found',
      now,
    );
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    assert.deepEqual(
      [ready?.status, ready?.reason, ready?.message],
      ['False', 'SecretNotFound', 'Secret net/l not found'],
    );
    assert.equal(s.foundCount, 4);
  });
});

describe('when the next run is due', () => {
  const ran = (at: string, generation: number, ready: 'True' | 'False' = 'True'): DeviceDiscovery => ({
    ...base,
    status: {
      lastRunTime: at,
      observedGeneration: generation,
      conditions: [{ type: 'Ready', status: ready, reason: 'x', message: '', lastTransitionTime: at }],
    },
  });
  test('at once when never run or changed since', () => {
    assert.equal(nextRunInMs(base, now), 0);
    assert.equal(nextRunInMs(ran('2026-12-03T11:59:00Z', 2), now), 0);
  });
  test('what is left of the interval after the last run', () => {
    assert.equal(nextRunInMs(ran('2026-12-03T11:59:00Z', 3), now), 9 * 60_000);
    assert.equal(nextRunInMs(ran('2026-12-03T11:00:00Z', 3), now), 0);
  });
  test('sooner after a failed run, so that a Secret created meanwhile is used', () => {
    assert.equal(nextRunInMs(ran('2026-12-03T12:00:00Z', 3, 'False'), now), FAILED_RETRY_MS);
  });
});
