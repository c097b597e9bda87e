import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Device } from '@switchforge/platform/crd';
import { avoidedNodes, desiredDeployment, type WorkerSettings } from './desired-deployment.js';

const device: Device = {
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { name: 'leaf1', namespace: 'lab', uid: '0b0e6c1e-3f0a-4f7e-9d3c-1a2b3c4d5e6f' },
  spec: { address: '192.0.2.10', protocol: 'gnmi', credentials: { secretRef: { name: 'leaf1-login' } } },
};

const settings: WorkerSettings = {
  image: 'switchforge/worker:test',
  command: ['node', 'worker/dist/main.js'],
  workingDir: '/app',
  imagePullPolicy: 'IfNotPresent',
  defaultResources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
  leaseDurationSeconds: 8,
};

describe('the worker Deployment around a lost node', () => {
  test('without avoided nodes the pod may go anywhere and a rollout keeps the old pod until the new one is up', () => {
    const d = desiredDeployment(device, settings);
    assert.equal(d.spec?.template.spec?.affinity, undefined);
    assert.deepEqual(d.spec?.strategy?.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    assert.deepEqual(avoidedNodes(d), []);
  });

  test('avoided nodes become a required NotIn on the node name, in a stable order', () => {
    const d = desiredDeployment(device, settings, ['kwok-node-2', 'kwok-node-0']);
    assert.deepEqual(
      d.spec?.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
      {
        nodeSelectorTerms: [
          {
            matchFields: [
              { key: 'metadata.name', operator: 'NotIn', values: ['kwok-node-0', 'kwok-node-2'] },
            ],
          },
        ],
      },
    );
    assert.deepEqual(
      avoidedNodes(d),
      ['kwok-node-0', 'kwok-node-2'],
      'read back from the applied Deployment',
    );
    assert.deepEqual(
      desiredDeployment(device, settings, ['kwok-node-0', 'kwok-node-2']),
      d,
      'the same nodes in another order give the same Deployment, so no needless rollout',
    );
  });

  test('while nodes are avoided the old ReplicaSet may go to zero at once, so it cannot recreate the evicted pod', () => {
    const d = desiredDeployment(device, settings, ['kwok-node-1']);
    assert.deepEqual(d.spec?.strategy?.rollingUpdate, { maxSurge: 1, maxUnavailable: 1 });
  });

  test('a Deployment another writer gave other node terms yields no avoided nodes', () => {
    const d = desiredDeployment(device, settings);
    d.spec!.template.spec!.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
        },
      },
    };
    assert.deepEqual(avoidedNodes(d), []);
    assert.deepEqual(avoidedNodes(undefined), []);
  });
});
