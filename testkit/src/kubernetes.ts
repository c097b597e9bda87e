import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { SERVICE_CIDR } from './nodes/addresses.js';
import { createClusterPki, type ClusterPki } from './pki.js';
import { binary } from './paths.js';
import { canConnect, freePort, waitFor } from './ports.js';
import { run, startDetached, tail, type CommandResult } from './processes.js';

export interface KubernetesInfo {
  server: string;
  kubeconfig: string;
  pki: ClusterPki;
  /** Simulated node name → pid of the kwok process that keeps that node alive. */
  nodes: Record<string, number>;
  pids: Record<string, number>;
  logDir: string;
  /** Second octet of this cluster's pod addresses (127.N.<node>.x): distinct per cluster. */
  podNetwork: number;
  /** The kube-apiserver's secure port on 127.0.0.1 (the real nodes reach it through the relay). */
  apiPort: number;
  /**
   * The Unix socket of the kube-apiserver's egress to nodes and pods (HTTP CONNECT): the real
   * nodes' relay serves it from inside their network (testkit/src/nodes/relay.ts).
   */
  egressSocket: string;
}

function kubeconfigYaml(server: string, pki: ClusterPki): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: switchforge-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${pki.caCert}`,
    'users:',
    '- name: switchforge-admin',
    '  user:',
    `    client-certificate: ${pki.adminCert}`,
    `    client-key: ${pki.adminKey}`,
    'contexts:',
    '- name: switchforge-local',
    '  context: { cluster: switchforge-local, user: switchforge-admin }',
    'current-context: switchforge-local',
    '',
  ].join('\n');
}

/** GET on the apiserver with the admin certificate; true on HTTP 200. */
function probe(server: string, path: string, pki: ClusterPki): Promise<boolean> {
  return new Promise((res) => {
    const req = request(
      `${server}${path}`,
      {
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.adminCert),
        key: readFileSync(pki.adminKey),
        timeout: 2000,
      },
      (response) => {
        response.resume();
        res(response.statusCode === 200);
      },
    );
    req.on('error', () => res(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export function kubectl(
  info: Pick<KubernetesInfo, 'kubeconfig'>,
  args: string[],
  input?: string,
): Promise<CommandResult> {
  return run(binary('kubectl'), ['--kubeconfig', info.kubeconfig, ...args], {
    ...(input === undefined ? {} : { input }),
    timeoutMs: 120_000,
  });
}

/**
 * A real control plane as controller-runtime's envtest runs it (etcd, kube-apiserver with TLS,
 * RBAC and service-account tokens) plus the controller-manager and scheduler, so Deployments
 * become scheduled pods, and one kwok process per simulated node (stopping one = losing a node).
 */
export async function startKubernetes(stateDir: string, nodeCount = 3): Promise<KubernetesInfo> {
  const dir = join(stateDir, 'kubernetes');
  const logDir = join(dir, 'logs');
  mkdirSync(join(dir, 'pki'), { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const pki = await createClusterPki(join(dir, 'pki'));
  const pids: Record<string, number> = {};

  const etcdClient = await freePort();
  const etcdPeer = await freePort();
  pids.etcd = startDetached(
    binary('etcd'),
    [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    join(logDir, 'etcd.log'),
  );
  await waitFor('etcd', () => canConnect(etcdClient), 30_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${tail(join(logDir, 'etcd.log'))}`);
  });

  const apiPort = await freePort();
  const server = `https://127.0.0.1:${apiPort}`;
  // Kubelets on the real nodes are reached only through their network's relay, never by a route
  // from this machine (DEVELOPERS.md: network rules), and by InternalIP, never by a DNS lookup.
  const egressSocket = join(dir, 'egress.sock');
  const egressConfig = join(dir, 'egress-selector.yaml');
  writeFileSync(
    egressConfig,
    [
      'apiVersion: apiserver.k8s.io/v1beta1',
      'kind: EgressSelectorConfiguration',
      'egressSelections:',
      '- name: cluster',
      '  connection:',
      '    proxyProtocol: HTTPConnect',
      '    transport:',
      '      uds:',
      `        udsName: ${egressSocket}`,
      '',
    ].join('\n'),
  );
  pids['kube-apiserver'] = startDetached(
    binary('kube-apiserver'),
    [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--endpoint-reconciler-type=none',
      `--egress-selector-config-file=${egressConfig}`,
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-client-certificate=${pki.kubeletClientCert}`,
      `--kubelet-client-key=${pki.kubeletClientKey}`,
      `--kubelet-certificate-authority=${pki.caCert}`,
      '--v=1',
    ],
    join(logDir, 'kube-apiserver.log'),
  );
  await waitFor('kube-apiserver /readyz', () => probe(server, '/readyz', pki), 120_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${tail(join(logDir, 'kube-apiserver.log'))}`);
  });

  const kubeconfig = join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(server, pki), { mode: 0o600 });

  pids['kube-controller-manager'] = startDetached(
    binary('kube-controller-manager'),
    [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--use-service-account-credentials=true',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // Fast node-loss detection for the local cluster; the operator's Lease-based eviction
      // is what makes failover fast in a real one.
      '--node-monitor-grace-period=20s',
      '--concurrent-deployment-syncs=20',
      '--concurrent-replicaset-syncs=20',
      '--kube-api-qps=200',
      '--kube-api-burst=400',
      '--v=1',
    ],
    join(logDir, 'kube-controller-manager.log'),
  );
  pids['kube-scheduler'] = startDetached(
    binary('kube-scheduler'),
    [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      '--kube-api-qps=200',
      '--kube-api-burst=400',
      '--v=1',
    ],
    join(logDir, 'kube-scheduler.log'),
  );

  // Random per cluster, so that clusters running side by side (a dedicated one beside the shared
  // one in a test run) do not hand out the same pod addresses.
  const podNetwork = 16 + Math.floor(Math.random() * 235);
  const info: KubernetesInfo = {
    server,
    kubeconfig,
    pki,
    nodes: {},
    pids,
    logDir,
    podNetwork,
    apiPort,
    egressSocket,
  };
  for (let i = 0; i < nodeCount; i++) await addNode(info, `kwok-node-${i}`);
  await waitFor(
    `${nodeCount} Ready kwok nodes`,
    async () => {
      const r = await kubectl(info, [
        'get',
        'nodes',
        '-o',
        'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
      ]);
      return r.code === 0 && r.stdout.split('\n').filter((s) => s === 'True').length >= nodeCount;
    },
    60_000,
    500,
  );
  await waitFor(
    'the default service account',
    async () => (await kubectl(info, ['get', 'serviceaccount', 'default', '-n', 'default'])).code === 0,
    60_000,
    500,
  );
  return info;
}

/** Registers a Node object and starts the kwok process that plays its kubelet. */
export async function addNode(info: KubernetesInfo, name: string): Promise<void> {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
    },
    spec: {},
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '250' },
      capacity: { cpu: '32', memory: '256Gi', pods: '250' },
      nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake' },
    },
  };
  const created = await kubectl(info, ['apply', '-f', '-'], JSON.stringify(node));
  if (created.code !== 0) throw new Error(`creating node ${name}: ${created.stderr}`);
  info.nodes[name] = startKwok(info, name);
}

/**
 * Each simulated node hands out pod IPs from its own loopback range (127.<cluster>.<node>.0/24),
 * so pods run by the e2e pod runner can each bind their ports on their own address, as in a cluster.
 */
export function podCidr(podNetwork: number, nodeName: string): string {
  const index = Number(/(\d+)$/.exec(nodeName)?.[1] ?? 0);
  return `127.${podNetwork}.${index % 256}.1/24`;
}

export function startKwok(info: KubernetesInfo, nodeName: string): number {
  return startDetached(
    binary('kwok'),
    [
      `--kubeconfig=${info.kubeconfig}`,
      `--manage-single-node=${nodeName}`,
      '--node-lease-duration-seconds=10',
      `--server-address=127.0.0.1:0`,
      `--cidr=${podCidr(info.podNetwork, nodeName)}`,
    ],
    join(info.logDir, `kwok-${nodeName}.log`),
  );
}
