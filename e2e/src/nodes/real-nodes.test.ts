/**
 * The local cluster's real nodes, as a pod sees them: the switchforge image run by a real kubelet
 * and containerd under the chart's securityContext, the kube-apiserver through the `kubernetes`
 * Service, names through the cluster DNS (and none from outside), the machine's loopback servers
 * through the relay, Secret volumes, `kubectl logs` and `exec`, and a killed container restarted.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_IMAGES } from '@switchforge/platform/image-layout';
import { KUBERNETES_SERVICE_IP, NODE_NETWORK, inCidr } from '@switchforge/testkit/nodes/addresses';
import { exposeToRealNodes, REAL_NODE_LABEL } from '@switchforge/testkit/nodes/real-nodes';
import { onRealNodes } from '@switchforge/testkit/nodes/workloads';
import { run } from '@switchforge/testkit/processes';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';

/** The chart's pod and container securityContext (charts/switchforge/templates/_helpers.tpl). */
const restricted = {
  pod: {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    seccompProfile: { type: 'RuntimeDefault' },
  },
  container: {
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  },
};

/** The probe: each check prints one JSON line, then it idles until stopped. */
const PROBE = `
const dns = require('node:dns').promises, fs = require('node:fs'), https = require('node:https'), net = require('node:net');
const say = (o) => console.log(JSON.stringify(o));
(async () => {
  try { say({ check: 'dns', address: (await dns.lookup('kubernetes.default.svc.cluster.local')).address }); }
  catch (e) { say({ check: 'dns', error: e.code }); }
  try { await dns.lookup('deb.debian.org'); say({ check: 'outside-dns', resolved: true }); }
  catch (e) { say({ check: 'outside-dns', error: e.code }); }
  const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
  await new Promise((done) => {
    const req = https.request({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT,
      path: '/api/v1/namespaces/' + fs.readFileSync(sa + '/namespace', 'utf8') + '/pods', ca: fs.readFileSync(sa + '/ca.crt'),
      headers: { authorization: 'Bearer ' + fs.readFileSync(sa + '/token', 'utf8') } }, (res) => {
        res.resume(); say({ check: 'apiserver', status: res.statusCode }); done();
      });
    req.on('error', (e) => { say({ check: 'apiserver', error: e.message }); done(); });
    req.end();
  });
  say({ check: 'secret', value: fs.readFileSync('/etc/probe/secret/greeting', 'utf8') });
  try { fs.writeFileSync('/probe-write', 'x'); say({ check: 'read-only-root', writable: true }); }
  catch (e) { say({ check: 'read-only-root', error: e.code }); }
  say({ check: 'user', uid: process.getuid() });
  const socket = net.connect(Number(process.env.OUTSIDE_PORT), process.env.OUTSIDE_HOST);
  socket.on('data', (d) => { say({ check: 'outside', reply: String(d) }); socket.end(); });
  socket.on('error', (e) => say({ check: 'outside', error: e.message }));
})();
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 60000);
`;

describe("the local cluster's real nodes", () => {
  let infra: Infra;
  let outside: Server;
  const namespace = `real-nodes-${process.pid}`;
  const kubectl = (args: string[], input?: string) => infra.kubernetes.kubectl(args, input);

  before(async () => {
    infra = await useInfra({ kubernetes: true, nodes: true });
    outside = createServer((s) => s.end('hello from the machine')).listen(0, '127.0.0.1');
    await new Promise((r) => outside.once('listening', r));
    const port = (outside.address() as { port: number }).port;
    const [host] = (await exposeToRealNodes(infra.realNodes, port)).split(':');
    const manifests = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'probe', namespace },
        stringData: { greeting: 'from a Secret volume' },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'probe', namespace },
        spec: {
          ...onRealNodes,
          securityContext: restricted.pod,
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'probe',
              image: DEFAULT_IMAGES.app,
              imagePullPolicy: 'Never',
              command: ['node', '-e', PROBE],
              env: [
                { name: 'OUTSIDE_HOST', value: host },
                { name: 'OUTSIDE_PORT', value: String(port) },
              ],
              securityContext: restricted.container,
              volumeMounts: [{ name: 'secret', mountPath: '/etc/probe/secret', readOnly: true }],
            },
          ],
          volumes: [{ name: 'secret', secret: { secretName: 'probe' } }],
        },
      },
    ];
    for (const m of manifests) {
      const r = await kubectl(['apply', '-f', '-'], JSON.stringify(m));
      assert.equal(r.code, 0, r.stderr);
    }
    const ready = await kubectl([
      'wait',
      '-n',
      namespace,
      '--for=condition=Ready',
      '--timeout=90s',
      'pod/probe',
    ]);
    assert.equal(ready.code, 0, ready.stderr);
  });

  after(async () => {
    outside?.close();
    await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    await infra?.stop();
  });

  const checks = async (): Promise<Map<string, Record<string, unknown>>> => {
    let lines: Record<string, unknown>[] = [];
    await waitFor(
      'every probe check in the pod log',
      async () => {
        const r = await kubectl(['logs', '-n', namespace, 'probe']);
        lines = r.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        return lines.some((l) => l.check === 'outside');
      },
      30_000,
      500,
    );
    return new Map(lines.map((l) => [String(l.check), l]));
  };

  test('are Ready nodes of the pinned kubelet and containerd, addressed on the nodes network', async () => {
    const r = await kubectl(['get', 'nodes', '-l', `${REAL_NODE_LABEL}=true`, '-o', 'json']);
    const nodes = (JSON.parse(r.stdout) as { items: NodeJson[] }).items;
    assert.ok(nodes.length >= 2, 'two nodes at least, so a lost node has somewhere to fail over to');
    for (const n of nodes) {
      assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.34.4');
      assert.match(n.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\.6\./);
      const ip = n.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
      assert.ok(inCidr(ip, NODE_NETWORK.cidr), ip);
    }
  });

  test('run the image as its non-root user on a read-only root, with Secret volumes mounted', async () => {
    const c = await checks();
    assert.deepEqual(c.get('user'), { check: 'user', uid: 65532 });
    assert.equal(c.get('read-only-root')?.error, 'EROFS');
    assert.equal(c.get('secret')?.value, 'from a Secret volume');
  });

  test('give pods the apiserver through the kubernetes Service and cluster names through CoreDNS', async () => {
    const c = await checks();
    assert.equal(c.get('dns')?.address, KUBERNETES_SERVICE_IP);
    assert.equal(
      c.get('apiserver')?.status,
      403,
      'authenticated as the default service account, which may not list pods',
    );
  });

  test('answer no name from outside the cluster and reach the machine only through the relay', async () => {
    const c = await checks();
    assert.ok(
      c.get('outside-dns')?.error,
      `an outside name resolved: ${JSON.stringify(c.get('outside-dns'))}`,
    );
    assert.equal(c.get('outside')?.reply, 'hello from the machine');
  });

  test('serve kubectl exec through the apiserver’s egress into the nodes network', async () => {
    const r = await kubectl([
      'exec',
      '-n',
      namespace,
      'probe',
      '--',
      'node',
      '-e',
      'console.log(require("os").hostname())',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'probe');
  });

  test('restart a killed container, as a kubelet does', async () => {
    const pod = JSON.parse(
      (await kubectl(['get', 'pod', '-n', namespace, 'probe', '-o', 'json'])).stdout,
    ) as PodJson;
    const node = infra.realNodes.nodes[pod.spec.nodeName];
    assert.ok(node, `the pod runs on a real node (${pod.spec.nodeName})`);
    const containerId = pod.status.containerStatuses[0]!.containerID.replace('containerd://', '');
    const task = await run('ctr', ['--address', node.containerdSocket, '-n', 'k8s.io', 'task', 'ls']);
    const pid = Number(
      task.stdout
        .split('\n')
        .find((l) => l.startsWith(containerId))
        ?.split(/\s+/)[1],
    );
    assert.ok(pid > 0, task.stdout);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'the container restarted and Ready',
      async () => {
        const p = JSON.parse(
          (await kubectl(['get', 'pod', '-n', namespace, 'probe', '-o', 'json'])).stdout,
        ) as PodJson;
        const s = p.status.containerStatuses[0];
        return (s?.restartCount ?? 0) >= 1 && s?.ready === true;
      },
      30_000,
      200,
    );
    console.log(`# killed container restarted and Ready in ${Date.now() - killedAt} ms`);
  });
});

interface NodeJson {
  status: {
    nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string };
    addresses: { type: string; address: string }[];
  };
}

interface PodJson {
  spec: { nodeName: string };
  status: { containerStatuses: { containerID: string; restartCount: number; ready: boolean }[] };
}
