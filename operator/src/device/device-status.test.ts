import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Device } from '@switchforge/platform/crd';
import { ANNOTATION } from '@switchforge/platform/device-worker';
import {
  computeDeviceStatus,
  connectedState,
  type ConnectedState,
  type ObservedWorker,
} from './device-status.js';

const now = new Date('2026-01-01T12:00:00Z');
const device: Device = {
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { name: 'leaf1', namespace: 'lab', generation: 3 },
  spec: { address: '10.0.0.1', protocol: 'gnmi', credentials: { secretRef: { name: 'leaf1-login' } } },
};
const lease = (annotations: Record<string, string>, renewedSecondsAgo = 1): V1Lease => ({
  metadata: { name: 'leaf1-collector', annotations },
  spec: {
    holderIdentity: 'leaf1-worker-abc',
    leaseDurationSeconds: 8,
    renewTime: new V1MicroTime(now.getTime() - renewedSecondsAgo * 1000),
  },
});
const failed = (reason: string, message: string) =>
  lease({ [ANNOTATION.sessionState]: 'failed', [ANNOTATION.reason]: reason, [ANNOTATION.message]: message });

test('the Connected condition names the cause a user can fix, with a machine-readable reason', () => {
  const cases: [string, ObservedWorker, ConnectedState][] = [
    [
      'the apiserver refused the worker Deployment',
      {
        applyRefused: {
          name: 'leaf1-worker',
          code: 422,
          message: 'Deployment.apps "leaf1-worker" is invalid: x',
        },
      },
      {
        status: 'False',
        reason: 'WorkerRejected',
        message:
          'the apiserver refused worker Deployment lab/leaf1-worker (HTTP 422): Deployment.apps "leaf1-worker" is invalid: x',
        phase: 'Failed',
      },
    ],
    [
      'no lease yet, no pod',
      {},
      {
        status: 'Unknown',
        reason: 'WorkerPending',
        message: 'waiting for the worker pod to start',
        phase: 'Pending',
      },
    ],
    [
      'a Secret the worker cannot use',
      {
        lease: failed(
          'SecretNotFound',
          'Secret lab/leaf1-login (spec.credentials.secretRef) does not exist or is empty',
        ),
      },
      {
        status: 'False',
        reason: 'SecretNotFound',
        message: 'Secret lab/leaf1-login (spec.credentials.secretRef) does not exist or is empty',
        phase: 'Failed',
      },
    ],
    [
      'a subscription the switch rejected',
      {
        lease: failed(
          'SubscriptionRejected',
          'the switch rejected the subscription to /a: UNIMPLEMENTED: no',
        ),
      },
      {
        status: 'False',
        reason: 'SubscriptionRejected',
        message: 'the switch rejected the subscription to /a: UNIMPLEMENTED: no',
        phase: 'Failed',
      },
    ],
    [
      'a reason that is not CamelCase falls back to Unreachable, keeping the message',
      { lease: failed('not a reason!', 'boom') },
      { status: 'False', reason: 'Unreachable', message: 'boom', phase: 'Failed' },
    ],
    [
      'a failure without a message still says what the worker reports',
      { lease: failed('Timeout', '') },
      { status: 'False', reason: 'Timeout', message: 'the worker reports Timeout', phase: 'Failed' },
    ],
    [
      'connected',
      { lease: lease({ [ANNOTATION.sessionState]: 'connected' }) },
      { status: 'True', reason: 'Connected', message: 'collecting as leaf1-worker-abc', phase: 'Connected' },
    ],
    [
      'a lapsed lease',
      { lease: lease({ [ANNOTATION.sessionState]: 'connected' }, 60) },
      {
        status: 'Unknown',
        reason: 'WorkerPending',
        message: 'the collector lease held by leaf1-worker-abc expired at 2026-01-01T11:59:08.000Z',
        phase: 'Pending',
      },
    ],
  ];
  for (const [name, observed, want] of cases)
    assert.deepEqual(connectedState(device, observed, now), want, name);
});

test('a refused apply becomes a warning transition (an Event) once, not on every reconcile', () => {
  const observed = { applyRefused: { name: 'leaf1-worker', code: 422, message: 'invalid' } };
  const first = computeDeviceStatus(device, observed, now);
  assert.deepEqual(
    first.transitions.map((t) => [t.type, t.reason, t.warning]),
    [
      ['Connected', 'WorkerRejected', true],
      ['Degraded', 'AsExpected', false],
    ],
  );
  assert.equal(first.status.phase, 'Failed');
  const again = computeDeviceStatus({ ...device, status: first.status }, observed, now);
  assert.deepEqual(again.transitions, []);
});
