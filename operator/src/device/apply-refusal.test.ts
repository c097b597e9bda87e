import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { applyRefusal } from './apply-refusal.js';

const status = (code: number, message: string) =>
  new ApiException(code, 'refused', JSON.stringify({ kind: 'Status', status: 'Failure', message, code }), {});

test('a refusal the user must fix carries the apiserver’s message; transient failures are retried', () => {
  const cases: [unknown, ReturnType<typeof applyRefusal>][] = [
    [
      status(422, 'Deployment.apps "leaf1-worker" is invalid: metadata.labels: Invalid value'),
      { code: 422, message: 'Deployment.apps "leaf1-worker" is invalid: metadata.labels: Invalid value' },
    ],
    [status(403, 'exceeded quota: compute'), { code: 403, message: 'exceeded quota: compute' }],
    [new ApiException(400, 'bad', 'not json', {}), { code: 400, message: 'not json' }],
    [status(409, 'conflict'), undefined],
    [status(429, 'slow down'), undefined],
    [status(500, 'etcd down'), undefined],
    [new Error('ECONNREFUSED'), undefined],
  ];
  for (const [error, want] of cases) assert.deepEqual(applyRefusal(error), want);
});
