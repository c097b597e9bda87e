/**
 * The pace of a profile edit: how many Devices may be between two generations at once, and
 * when a worker counts as having applied one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Deployment, V1Lease, V1Pod } from '@kubernetes/client-node';
import { ANNOTATION } from '@switchforge/platform/device-worker';
import { concurrencyLimit, workerApplied, type WorkerView } from './profile-rollout.js';

const NOW = new Date('2026-12-03T12:00:00Z');

describe('the number of Devices updated at once', () => {
  test('a count is taken as it is; a percentage of the Devices is rounded up; never below 1', () => {
    assert.equal(concurrencyLimit(5, 1000), 5);
    assert.equal(concurrencyLimit('25%', 10), 3);
    assert.equal(concurrencyLimit('1%', 50), 1);
    assert.equal(concurrencyLimit('100%', 50), 50);
    assert.equal(concurrencyLimit('10%', 0), 1);
  });

  test('unset: 10% of the Devices', () => {
    assert.equal(concurrencyLimit(undefined, 1000), 100);
    assert.equal(concurrencyLimit(undefined, 50), 5);
  });
});

describe('a worker that applied a generation', () => {
  const worker = (
    changes: {
      annotation?: string;
      renewedSecondsAgo?: number;
      holderDeleting?: boolean;
      rolling?: boolean;
    } = {},
  ): WorkerView => ({
    lease: {
      metadata: { annotations: { [ANNOTATION.appliedProfileGeneration]: changes.annotation ?? '5' } },
      spec: {
        holderIdentity: 'leaf1-pod',
        renewTime: new Date(NOW.getTime() - (changes.renewedSecondsAgo ?? 1) * 1000) as unknown as Date,
        leaseDurationSeconds: 8,
      },
    } as V1Lease,
    holderPod: {
      metadata: { name: 'leaf1-pod', ...(changes.holderDeleting ? { deletionTimestamp: NOW } : {}) },
    } as V1Pod,
    deployment: {
      metadata: { generation: 2 },
      spec: { replicas: 1 },
      status: changes.rolling
        ? { observedGeneration: 2, replicas: 2, updatedReplicas: 1 }
        : { observedGeneration: 2, replicas: 1, updatedReplicas: 1 },
    } as V1Deployment,
  });

  test('says so on its live Lease, from a pod of the current template', () => {
    assert.equal(workerApplied(5, worker(), NOW), true);
  });

  test('not yet: another generation on the Lease, a lapsed Lease, an old pod on its way out, a rollout under way', () => {
    assert.equal(workerApplied(5, worker({ annotation: '4' }), NOW), false);
    assert.equal(workerApplied(5, worker({ renewedSecondsAgo: 30 }), NOW), false);
    assert.equal(workerApplied(5, worker({ holderDeleting: true }), NOW), false);
    assert.equal(workerApplied(5, worker({ rolling: true }), NOW), false);
    assert.equal(
      workerApplied(5, { lease: undefined, deployment: undefined, holderPod: undefined }, NOW),
      false,
    );
  });
});
