import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { useInfra, waitFor, type Infra } from './suite.js';

let infra: Infra;
const namespace = `infra-${process.pid}`;

before(async () => {
  infra = await useInfra({ kubernetes: true });
  const r = await infra.kubernetes.kubectl(['create', 'namespace', namespace]);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await infra.kubernetes.kubectl(['delete', 'namespace', namespace, '--wait=false']);
  await infra.stop();
});

test('the control plane serves over TLS with RBAC: an unauthenticated request is refused', async () => {
  const r = await fetch(`${infra.kubernetes.server}/api/v1/namespaces`).catch((e: Error) => e);
  // Without the cluster CA the TLS handshake itself fails; the admin kubeconfig is required.
  assert.ok(r instanceof Error, 'plain fetch without the CA must not succeed');
  const anon = await infra.kubernetes.kubectl(['get', 'namespaces', '--as', 'system:anonymous']);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /forbidden/i);
});

test('a Deployment gets a pod that the scheduler binds to a kwok node and that is reported Running', async () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello', namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'hello' } },
      template: {
        metadata: { labels: { app: 'hello' } },
        spec: {
          containers: [{ name: 'hello', image: 'example.invalid/hello:1', command: ['sleep', 'infinity'] }],
        },
      },
    },
  };
  const applied = await infra.kubernetes.kubectl(['apply', '-f', '-'], JSON.stringify(deployment));
  assert.equal(applied.code, 0, applied.stderr);
  let pod: { node: string; phase: string } | undefined;
  await waitFor(
    'the pod to run on a kwok node',
    async () => {
      const r = await infra.kubernetes.kubectl([
        'get',
        'pods',
        '-n',
        namespace,
        '-l',
        'app=hello',
        '-o',
        'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\\n"}{end}',
      ]);
      const [node = '', phase = ''] = r.stdout.trim().split(' ');
      pod = { node, phase };
      return phase === 'Running';
    },
    60_000,
    500,
  );
  assert.match(pod!.node, /^kwok-node-\d+$/);
  const nodes = await infra.kubernetes.kubectl([
    'get',
    'node',
    pod!.node,
    '-o',
    'jsonpath={.metadata.annotations}',
  ]);
  assert.match(nodes.stdout, /kwok\.x-k8s\.io\/node/);
});
