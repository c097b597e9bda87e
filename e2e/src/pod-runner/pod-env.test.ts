import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { expand, resolveEnv } from './pod-env.js';

const pod: V1Pod = {
  metadata: { name: 'w-1', namespace: 'lab', uid: 'u-1', labels: { app: 'x' } },
  spec: { nodeName: 'kwok-node-1', containers: [] },
};

test('env is resolved in order with downward-API fields, secrets and $(VAR) expansion', async () => {
  const env = await resolveEnv(
    pod,
    {
      name: 'c',
      env: [
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'ATTRS', value: 'pod=$(POD),node=$(NODE),later=$(LATER),lit=$$(POD)' },
        { name: 'DB', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
        { name: 'LATER', value: 'x' },
      ],
    },
    async (name, key) => (name === 'db' && key === 'url' ? 'postgres://x' : undefined),
  );
  assert.deepEqual(env, {
    POD: 'w-1',
    NODE: 'kwok-node-1',
    ATTRS: 'pod=w-1,node=kwok-node-1,later=$(LATER),lit=$(POD)',
    DB: 'postgres://x',
    LATER: 'x',
  });
});

test('a missing required secret key is an error naming it', async () => {
  await assert.rejects(
    resolveEnv(
      pod,
      { name: 'c', env: [{ name: 'DB', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }] },
      async () => undefined,
    ),
    /secret db\/url/,
  );
  assert.equal(expand('$(A)', {}), '$(A)');
});
