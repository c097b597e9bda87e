import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V1MicroTime, type V1Lease, type V1Pod } from '@kubernetes/client-node';
import { DeviceConditionReason, type Device } from '@switchforge/platform/crd';
import { ANNOTATION } from '@switchforge/platform/device-worker';
import {
  computeDeviceStatus,
  connectedState,
  type ConnectedState,
  type ObservedWorker,
  workerPodTrouble,
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

const workerPod = (status: V1Pod['status'], limit?: string): V1Pod => ({
  metadata: { name: 'leaf1-worker-abc', creationTimestamp: new Date('2026-01-01T11:59:00Z') },
  spec: { containers: [{ name: 'worker', ...(limit ? { resources: { limits: { memory: limit } } } : {}) }] },
  status,
});
const waitingFor = (reason: string, message: string): V1Pod['status'] => ({
  containerStatuses: [
    {
      name: 'worker',
      image: 'img',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason, message } },
    },
  ],
});

test('what the kubelet and scheduler report about a worker that cannot start is the cause on the Device', () => {
  const cases: [string, V1Pod, string, RegExp][] = [
    [
      'an image the node cannot get',
      workerPod(
        waitingFor('ErrImageNeverPull', 'Container image "img" is not present with pull policy of Never'),
      ),
      DeviceConditionReason.WorkerImageUnavailable,
      /ErrImageNeverPull: Container image "img" is not present/,
    ],
    [
      'a container the kubelet cannot create',
      workerPod(waitingFor('CreateContainerConfigError', 'secret "db" not found')),
      DeviceConditionReason.WorkerCannotStart,
      /secret "db" not found/,
    ],
    [
      'a crash loop, with the last termination message',
      workerPod({
        containerStatuses: [
          {
            name: 'worker',
            image: 'img',
            imageID: '',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: {
              terminated: { exitCode: 1, reason: 'Error', message: 'starting\nEACCES: permission denied' },
            },
          },
        ],
      }),
      DeviceConditionReason.WorkerCrashLooping,
      /exited with code 1: starting \| EACCES: permission denied \(3 restart/,
    ],
    [
      'an OOM kill, with the limit',
      workerPod(
        {
          containerStatuses: [
            {
              name: 'worker',
              image: 'img',
              imageID: '',
              ready: false,
              restartCount: 1,
              state: { running: {} },
              lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
            },
          ],
        },
        '96Mi',
      ),
      DeviceConditionReason.WorkerOOMKilled,
      /exceeding its memory limit \(96Mi\)/,
    ],
    [
      'no node that fits',
      workerPod({
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available',
          },
        ],
      }),
      DeviceConditionReason.WorkerUnschedulable,
      /0\/3 nodes are available/,
    ],
  ];
  for (const [name, pod, reason, message] of cases) {
    const state = connectedState(device, { workerPods: [pod] }, now);
    assert.equal(state.reason, reason, name);
    assert.equal(state.status, 'False', name);
    assert.equal(state.phase, 'Failed', name);
    assert.match(state.message, message, name);
  }
});

test('a worker pod still starting, or one being deleted, is only pending', () => {
  const starting = workerPod(waitingFor('ContainerCreating', ''));
  assert.equal(
    connectedState(device, { workerPods: [starting] }, now).reason,
    DeviceConditionReason.WorkerPending,
  );
  const gone = {
    ...workerPod(waitingFor('ErrImagePull', 'x')),
    metadata: { name: 'old', deletionTimestamp: now },
  };
  assert.equal(workerPodTrouble([gone]), undefined);
});

test('a live collector Lease wins over an older pod’s trouble', () => {
  const crashed = workerPod(waitingFor('CrashLoopBackOff', ''));
  const state = connectedState(
    device,
    { workerPods: [crashed], lease: lease({ [ANNOTATION.sessionState]: 'connected' }) },
    now,
  );
  assert.equal(state.reason, 'Connected');
});
