import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podTargetGroups } from './pod-targets.js';

const pod = (name: string, annotations: Record<string, string>, phase = 'Running') => ({
  metadata: {
    name,
    namespace: 'lab',
    annotations,
    labels: { 'app.kubernetes.io/component': 'device-worker' },
  },
  status: { phase },
});

test('lists running pods that ask to be scraped, each through the apiserver proxy on its port', () => {
  const groups = podTargetGroups(
    {
      items: [
        pod('leaf1-worker', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464' }),
        pod('quiet', {}),
        pod('starting', { 'prometheus.io/scrape': 'true' }, 'Pending'),
      ],
    },
    6443,
  );
  assert.deepEqual(groups, [
    {
      targets: ['127.0.0.1:6443'],
      labels: {
        __metrics_path__: '/api/v1/namespaces/lab/pods/leaf1-worker:9464/proxy/metrics',
        namespace: 'lab',
        pod: 'leaf1-worker',
        component: 'device-worker',
      },
    },
  ]);
});
