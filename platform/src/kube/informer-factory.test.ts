import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CORE, watchPath } from './informer-factory.js';

test('watch paths follow the API group and the namespace scope', () => {
  assert.equal(watchPath(CORE.pods), '/api/v1/pods');
  assert.equal(watchPath(CORE.pods, 'lab'), '/api/v1/namespaces/lab/pods');
  assert.equal(watchPath(CORE.deployments, 'lab'), '/apis/apps/v1/namespaces/lab/deployments');
  assert.equal(
    watchPath({ apiVersion: 'switchforge.io/v1alpha1', kind: 'Device', plural: 'devices' }),
    '/apis/switchforge.io/v1alpha1/devices',
  );
});
