/**
 * Real Kubernetes nodes for the local cluster: per node a network namespace, containerd + runc
 * with the CNI bridge, the kubelet and kube-proxy of the control plane's version, the project's
 * images imported into its containerd; beside them the cluster network (relay, egress, CoreDNS).
 * `startRealNodes` joins them to a running control plane; `stopRealNodes` leaves nothing behind.
 * ../../../../shared/REAL-NODE.md holds the facts these settings rest on.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KUBERNETES_SERVICE_IP, nodeAddresses, OUTSIDE_ADDRESS } from './addresses.js';
import {
  exposeToPods,
  startClusterDns,
  startClusterNetwork,
  type ClusterNetwork,
} from './cluster-network.js';
import {
  createCgroup,
  leftoverCgroups,
  presentFixedPaths,
  removeCgroup,
  removeFixedPaths,
  shimsOf,
  unmountUnder,
} from './host-cleanup.js';
import { createNetns, deleteNetns, ip, listNetns, netnsCommand } from './netns.js';
import {
  clientKubeconfig,
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  type NodePlan,
} from './node-config.js';
import { kubectl, type KubernetesInfo } from '../kubernetes.js';
import { binary } from '../paths.js';
import { CLIENT_CERT_EXTENSIONS, issueCertificate } from '../pki.js';
import { waitFor } from '../ports.js';
import { run, startDetached, stopProcess, tail } from '../processes.js';

/** Every name the nodes give the machine (namespaces, cgroups) starts with this. */
export const REAL_NODE_PREFIX = 'sfn';
/** Nodes started with `taint: true` carry it, so only pods that tolerate it land there. */
export const REAL_NODE_TAINT = {
  key: 'switchforge.io/real-node',
  value: 'true',
  effect: 'NoSchedule',
} as const;
export const REAL_NODE_LABEL = 'switchforge.io/real-node';

export interface RealNode extends NodePlan {
  netns: string;
  kubeletRoot: string;
  pids: { containerd: number; kubelet: number; 'kube-proxy': number };
}

export interface RealNodes {
  id: string;
  dir: string;
  logDir: string;
  network: ClusterNetwork;
  dnsPid: number;
  nodes: Record<string, RealNode>;
  /** Fixed host paths that existed before the nodes started (kept on stop). */
  presentFixedPaths: string[];
}

export interface StartRealNodesOptions {
  count: number;
  /** OCI archives to import into every node's containerd (the pause image among them). */
  images: readonly string[];
  pauseImage: string;
  taint?: boolean;
}

const SYSCTLS_THE_KUBELET_WANTS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
};

async function writeNodeCertificates(
  k8s: KubernetesInfo,
  dir: string,
  name: string,
  nodeIp: string,
): Promise<{ client: { cert: string; key: string }; serving: { cert: string; key: string } }> {
  const ca = { cert: k8s.pki.caCert, key: k8s.pki.caKey };
  const usage = (eku: string): string =>
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${eku}`,
    ].join('\n');
  const client = await issueCertificate(
    dir,
    'kubelet-client',
    `/O=system:nodes/CN=system:node:${name}`,
    ca,
    `${usage('clientAuth')}\n`,
  );
  const serving = await issueCertificate(
    dir,
    'kubelet-serving',
    `/CN=${name}`,
    ca,
    `${usage('serverAuth')}\nsubjectAltName=IP:${nodeIp},DNS:${name}\n`,
  );
  return { client, serving };
}

/** The kubelet in its own mount namespace, with the three sysctls it insists on seen as set. */
function kubeletCommand(node: RealNode, kubeletArgs: string[]): [string, string[]] {
  const sysctlDir = join(node.dir, 'sysctl');
  mkdirSync(sysctlDir, { recursive: true });
  const binds: string[] = [];
  for (const [path, value] of Object.entries(SYSCTLS_THE_KUBELET_WANTS)) {
    const file = join(sysctlDir, path.replace('/', '.'));
    writeFileSync(file, `${value}\n`);
    binds.push(`mount --bind ${file} /proc/sys/${path}`);
  }
  const script = ['set -e', 'mount --make-rprivate /proc', ...binds, 'exec "$@"'].join('\n');
  return netnsCommand(node.netns, 'unshare', [
    '--mount',
    '--propagation',
    'unchanged',
    '--',
    'sh',
    '-c',
    script,
    'kubelet',
    binary('kubelet'),
    ...kubeletArgs,
  ]);
}

async function startNode(
  k8s: KubernetesInfo,
  nodes: RealNodes,
  index: number,
  options: StartRealNodesOptions,
): Promise<RealNode> {
  const name = `real-node-${index}`;
  const addresses = nodeAddresses(index);
  const dir = join(nodes.dir, name);
  const netns = `${REAL_NODE_PREFIX}${nodes.id}-n${index}`;
  for (const sub of ['pki', 'cni/net.d', 'containerd', 'kubelet', 'pod-logs', 'volume-plugins']) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  const certs = await writeNodeCertificates(k8s, join(dir, 'pki'), name, addresses.nodeIp);
  const server = `https://${OUTSIDE_ADDRESS}:${k8s.apiPort}`;
  const kubeletKubeconfig = join(dir, 'kubelet.kubeconfig');
  writeFileSync(
    kubeletKubeconfig,
    clientKubeconfig(server, k8s.pki.caCert, certs.client.cert, certs.client.key),
    { mode: 0o600 },
  );
  const proxyCert = await issueCertificate(
    join(dir, 'pki'),
    'kube-proxy',
    '/CN=system:kube-proxy',
    { cert: k8s.pki.caCert, key: k8s.pki.caKey },
    CLIENT_CERT_EXTENSIONS,
  );
  const kubeProxyKubeconfig = join(dir, 'kube-proxy.kubeconfig');
  writeFileSync(
    kubeProxyKubeconfig,
    clientKubeconfig(server, k8s.pki.caCert, proxyCert.cert, proxyCert.key),
    { mode: 0o600 },
  );
  const resolvConf = join(dir, 'resolv.conf');
  // dnsPolicy Default pods get this: no name server of the machine's.
  writeFileSync(resolvConf, '# switchforge local node: no upstream name server\noptions ndots:1\n');

  const node: RealNode = {
    name,
    index,
    dir,
    ...addresses,
    cgroupRoot: `/${REAL_NODE_PREFIX}${nodes.id}-n${index}`,
    pauseImage: options.pauseImage,
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    kubeletKubeconfig,
    kubeProxyKubeconfig,
    caCert: k8s.pki.caCert,
    servingCert: certs.serving.cert,
    servingKey: certs.serving.key,
    resolvConf,
    kubeletPort: 10250,
    netns,
    kubeletRoot: join(dir, 'kubelet'),
    pids: { containerd: 0, kubelet: 0, 'kube-proxy': 0 },
  };

  // The node's network: eth0 on the cluster bridge, its pods' routes through it.
  await createNetns(netns);
  const veth = `v${nodes.id}n${index}`;
  await ip([
    '-n',
    nodes.network.netns,
    'link',
    'add',
    veth,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    netns,
  ]);
  await ip(['-n', nodes.network.netns, 'link', 'set', veth, 'master', nodes.network.bridge, 'up']);
  await ip(['-n', netns, 'addr', 'add', `${node.nodeIp}/24`, 'dev', 'eth0']);
  await ip(['-n', netns, 'link', 'set', 'eth0', 'up']);
  await ip(['-n', netns, 'route', 'add', 'default', 'via', '10.250.0.1']);
  await ip(['-n', nodes.network.netns, 'route', 'replace', node.podCidr, 'via', node.nodeIp]);

  writeFileSync(join(dir, 'containerd', 'config.toml'), containerdConfig(node));
  writeFileSync(join(dir, 'cni', 'net.d', '10-switchforge.conflist'), cniConfig(node));
  const [ctrdCmd, ctrdArgs] = netnsCommand(netns, 'containerd', [
    '--config',
    join(dir, 'containerd', 'config.toml'),
  ]);
  node.pids.containerd = startDetached(ctrdCmd, ctrdArgs, join(nodes.logDir, `${name}-containerd.log`));
  const ctr = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    run('ctr', ['--address', node.containerdSocket, '--namespace', 'k8s.io', ...args], {
      timeoutMs: 300_000,
    });
  await waitFor(`${name}'s containerd`, async () => (await ctr(['version'])).code === 0, 30_000, 200).catch(
    (e: Error) => {
      throw new Error(`${e.message}\n${tail(join(nodes.logDir, `${name}-containerd.log`))}`);
    },
  );
  for (const archive of options.images) {
    const r = await ctr(['images', 'import', archive]);
    if (r.code !== 0) throw new Error(`importing ${archive} into ${name}: ${r.stderr}`);
  }

  // The kubelet's root is a shared mount, so the volumes it mounts in its own namespace reach
  // containerd in the machine's.
  await run('mount', ['--bind', node.kubeletRoot, node.kubeletRoot]);
  await run('mount', ['--make-shared', node.kubeletRoot]);
  createCgroup(node.cgroupRoot);
  const config = JSON.parse(kubeletConfig(node)) as Record<string, unknown>;
  if (options.taint) config.registerWithTaints = [REAL_NODE_TAINT];
  writeFileSync(join(dir, 'kubelet.json'), JSON.stringify(config, null, 2));
  const [kCmd, kArgs] = kubeletCommand(node, [
    `--config=${join(dir, 'kubelet.json')}`,
    `--kubeconfig=${kubeletKubeconfig}`,
    `--root-dir=${node.kubeletRoot}`,
    `--cert-dir=${join(dir, 'pki')}`,
    `--hostname-override=${name}`,
    `--node-ip=${node.nodeIp}`,
    `--node-labels=${REAL_NODE_LABEL}=true`,
    '--v=1',
  ]);
  node.pids.kubelet = startDetached(kCmd, kArgs, join(nodes.logDir, `${name}-kubelet.log`));

  writeFileSync(join(dir, 'kube-proxy.json'), kubeProxyConfig(node));
  const [pCmd, pArgs] = netnsCommand(netns, binary('kube-proxy'), [
    `--config=${join(dir, 'kube-proxy.json')}`,
    '--v=1',
  ]);
  node.pids['kube-proxy'] = startDetached(pCmd, pArgs, join(nodes.logDir, `${name}-kube-proxy.log`));
  return node;
}

/** The ClusterRole CoreDNS's kubernetes plugin needs, bound to the certificate's user. */
const DNS_RBAC = (user: string): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'switchforge:cluster-dns' },
        rules: [
          { apiGroups: [''], resources: ['services', 'namespaces', 'pods'], verbs: ['list', 'watch'] },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'switchforge:cluster-dns' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'switchforge:cluster-dns',
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
    ],
  });

/**
 * The `kubernetes` Service's endpoint: the kube-apiserver as pods reach it, through the relay
 * (the apiserver runs with --endpoint-reconciler-type=none, so nothing else writes it).
 */
function kubernetesEndpoints(apiPort: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'kubernetes',
          namespace: 'default',
          labels: {
            'kubernetes.io/service-name': 'kubernetes',
            'endpointslice.kubernetes.io/managed-by': 'switchforge-local-nodes',
          },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [OUTSIDE_ADDRESS], conditions: { ready: true } }],
        ports: [{ name: 'https', port: apiPort, protocol: 'TCP' }],
      },
    ],
  });
}

export async function startRealNodes(
  k8s: KubernetesInfo,
  stateDir: string,
  options: StartRealNodesOptions,
): Promise<RealNodes> {
  const id = randomBytes(2).toString('hex');
  const dir = join(stateDir, 'real-nodes');
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const fixed = presentFixedPaths();
  const network = await startClusterNetwork({
    netns: `${REAL_NODE_PREFIX}${id}-c`,
    dir: join(dir, 'network'),
    logDir,
    egressSocket: k8s.egressSocket,
    apiPort: k8s.apiPort,
  });
  const nodes: RealNodes = { id, dir, logDir, network, dnsPid: 0, nodes: {}, presentFixedPaths: fixed };
  try {
    const dnsCert = await issueCertificate(
      join(dir, 'network'),
      'cluster-dns',
      '/CN=system:switchforge-cluster-dns',
      { cert: k8s.pki.caCert, key: k8s.pki.caKey },
      CLIENT_CERT_EXTENSIONS,
    );
    const rbac = await kubectl(k8s, ['apply', '-f', '-'], DNS_RBAC('system:switchforge-cluster-dns'));
    if (rbac.code !== 0) throw new Error(`cluster DNS RBAC: ${rbac.stderr}`);
    const endpoints = await kubectl(k8s, ['apply', '-f', '-'], kubernetesEndpoints(k8s.apiPort));
    if (endpoints.code !== 0) throw new Error(`kubernetes Service endpoints: ${endpoints.stderr}`);
    const dnsKubeconfig = join(dir, 'network', 'cluster-dns.kubeconfig');
    writeFileSync(
      dnsKubeconfig,
      clientKubeconfig(
        `https://${OUTSIDE_ADDRESS}:${k8s.apiPort}`,
        k8s.pki.caCert,
        dnsCert.cert,
        dnsCert.key,
      ),
      { mode: 0o600 },
    );
    nodes.dnsPid = startClusterDns({
      netns: network.netns,
      dir: join(dir, 'network'),
      logDir,
      kubeconfig: dnsKubeconfig,
    });

    for (let i = 0; i < options.count; i++) {
      const node = await startNode(k8s, nodes, i, options);
      nodes.nodes[node.name] = node;
    }
    const names = Object.keys(nodes.nodes);
    await waitFor(
      `${names.length} Ready real nodes`,
      async () => {
        const r = await kubectl(k8s, [
          'get',
          'nodes',
          '-l',
          `${REAL_NODE_LABEL}=true`,
          '-o',
          'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
        ]);
        return r.code === 0 && r.stdout.split('\n').filter((s) => s === 'True').length >= names.length;
      },
      90_000,
      500,
    ).catch((e: Error) => {
      const logs = names
        .map((n) => `--- ${n} kubelet\n${tail(join(logDir, `${n}-kubelet.log`), 15)}`)
        .join('\n');
      throw new Error(`${e.message}\n${logs}`);
    });
    return nodes;
  } catch (e) {
    await stopRealNodes(nodes);
    throw e;
  }
}

/** Pods reach 127.0.0.1:`port` of this machine as OUTSIDE_ADDRESS:`port`. */
export async function exposeToRealNodes(nodes: RealNodes, port: number): Promise<string> {
  await exposeToPods(nodes.network, port);
  return `${OUTSIDE_ADDRESS}:${port}`;
}

/** Stops one node's kubelet (its pods keep running, as on a node that lost its kubelet). */
export async function stopKubelet(node: RealNode): Promise<void> {
  await stopProcess(node.pids.kubelet);
}

/**
 * Runs every step of a teardown even when one fails (a cgroup folder vanishing mid-walk, a busy
 * mount), so that one step's error cannot leave the later steps' namespaces and processes behind.
 */
async function everyStep(steps: ReadonlyArray<[string, () => Promise<unknown> | unknown]>): Promise<Error[]> {
  const errors: Error[] = [];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
  return errors;
}

function stopNode(node: RealNode): Promise<Error[]> {
  const killShims = (): void => {
    for (const pid of shimsOf(node.containerdSocket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  return everyStep([
    [`${node.name} kubelet`, () => stopProcess(node.pids.kubelet, 3000)],
    [`${node.name} kube-proxy`, () => stopProcess(node.pids['kube-proxy'], 2000)],
    [`${node.name} cgroup ${node.cgroupRoot}`, () => removeCgroup(node.cgroupRoot)],
    [`${node.name} shims`, killShims],
    [`${node.name} containerd`, () => stopProcess(node.pids.containerd, 3000)],
    [`${node.name} mounts`, () => unmountUnder(node.dir)],
    [`${node.name} netns ${node.netns}`, () => deleteNetns(node.netns)],
  ]);
}

/** Stops the nodes and their network; every step runs, and what failed is thrown together. */
export async function stopRealNodes(nodes: RealNodes): Promise<void> {
  const errors: Error[] = [];
  for (const node of Object.values(nodes.nodes)) errors.push(...(await stopNode(node)));
  errors.push(
    ...(await everyStep([
      ['cluster DNS', () => (nodes.dnsPid ? stopProcess(nodes.dnsPid, 2000) : undefined)],
      ...Object.entries(nodes.network.pids).map(([name, pid]): [string, () => Promise<void>] => [
        name,
        () => stopProcess(pid, 2000),
      ]),
      [`netns ${nodes.network.netns}`, () => deleteNetns(nodes.network.netns)],
      ['mounts', () => unmountUnder(nodes.dir)],
      ['fixed paths', () => removeFixedPaths(nodes.presentFixedPaths)],
      // A cgroup still busy a moment ago, or a namespace whose deletion failed: once more.
      ['leftovers', () => sweepRealNodes(`${REAL_NODE_PREFIX}${nodes.id}-`)],
    ])),
  );
  if (errors.length > 0)
    throw new AggregateError(errors, `stopping the real nodes: ${errors.map((e) => e.message).join('; ')}`);
}

/** What a run that died without stopping left: the project's namespaces and cgroups. */
export async function sweepRealNodes(prefix: string = REAL_NODE_PREFIX): Promise<void> {
  for (const cgroup of leftoverCgroups(prefix)) await removeCgroup(cgroup);
  for (const ns of await listNetns(prefix)) await deleteNetns(ns);
}

export { KUBERNETES_SERVICE_IP };
