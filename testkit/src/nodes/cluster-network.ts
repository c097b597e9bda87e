/**
 * The cluster's network namespace: the nodes' bridge, the relay to what runs on the machine's
 * loopback (kube-apiserver, PostgreSQL, Temporal, the simulated switches), the kube-apiserver's
 * egress into the nodes, and the cluster DNS. Pods reach the outside only through the relay, on
 * OUTSIDE_ADDRESS and the port the server has on 127.0.0.1.
 */
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_DOMAIN, DNS_ADDRESS, NODE_NETWORK, OUTSIDE_ADDRESS, POD_NETWORK } from './addresses.js';
import { createNetns, ip, netnsCommand } from './netns.js';
import { binary, repoRoot } from '../paths.js';
import { waitFor } from '../ports.js';
import { startDetached, tail } from '../processes.js';
import { existsSync } from 'node:fs';

export interface ClusterNetwork {
  netns: string;
  bridge: string;
  /** Host side of the relay (Unix socket, machine's namespace). */
  relaySocket: string;
  /** The relay's control socket: `PUT /ports/P` exposes 127.0.0.1:P to pods. */
  controlSocket: string;
  pids: Record<string, number>;
}

function tsxCommand(script: string, args: readonly string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', join(repoRoot, script), ...args]];
}

export async function startClusterNetwork(options: {
  netns: string;
  dir: string;
  logDir: string;
  egressSocket: string;
  apiPort: number;
}): Promise<ClusterNetwork> {
  const { netns, dir, logDir } = options;
  mkdirSync(dir, { recursive: true });
  await createNetns(netns);
  const bridge = 'br0';
  await ip(['-n', netns, 'link', 'add', bridge, 'type', 'bridge']).catch((e: Error) => {
    if (!/File exists/.test(e.message)) throw e;
  });
  await ip(['-n', netns, 'addr', 'replace', `${NODE_NETWORK.gateway}/${NODE_NETWORK.prefix}`, 'dev', bridge]);
  await ip(['-n', netns, 'link', 'set', bridge, 'up']);
  for (const a of [OUTSIDE_ADDRESS, DNS_ADDRESS])
    await ip(['-n', netns, 'addr', 'replace', `${a}/32`, 'dev', 'lo']);

  const relaySocket = join(dir, 'relay.sock');
  const controlSocket = join(dir, 'relay-control.sock');
  const pids: Record<string, number> = {};
  const [node, hostArgs] = tsxCommand('testkit/src/nodes/relay.ts', ['host', '--socket', relaySocket]);
  pids['relay-host'] = startDetached(node, hostArgs, join(logDir, 'relay-host.log'));
  const [, netnsArgs] = tsxCommand('testkit/src/nodes/relay.ts', [
    'netns',
    '--socket',
    relaySocket,
    '--address',
    OUTSIDE_ADDRESS,
    '--control',
    controlSocket,
    '--connect',
    options.egressSocket,
    // Kubelets (logs, exec, port-forward) and pods (the apiserver's pod proxy, which the local
    // Prometheus scrapes through): nothing else inside, nothing outside.
    '--allow',
    NODE_NETWORK.cidr,
    '--allow',
    POD_NETWORK,
    '--port',
    String(options.apiPort),
  ]);
  const [nsenter, nsArgs] = netnsCommand(netns, node, netnsArgs);
  pids['relay-netns'] = startDetached(nsenter, nsArgs, join(logDir, 'relay-netns.log'));
  await waitFor(
    'the cluster network relay',
    async () => existsSync(relaySocket) && existsSync(controlSocket) && existsSync(options.egressSocket),
    30_000,
    100,
  ).catch((e: Error) => {
    throw new Error(
      `${e.message}\n${tail(join(logDir, 'relay-netns.log'))}\n${tail(join(logDir, 'relay-host.log'))}`,
    );
  });
  return { netns, bridge, relaySocket, controlSocket, pids };
}

/** Makes 127.0.0.1:`port` reachable from every pod as OUTSIDE_ADDRESS:`port`. */
export function exposeToPods(network: Pick<ClusterNetwork, 'controlSocket'>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: network.controlSocket, method: 'PUT', path: `/ports/${port}` },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () =>
          res.statusCode === 204
            ? resolve()
            : reject(new Error(`exposing port ${port}: ${res.statusCode} ${body}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * CoreDNS in the cluster namespace on DNS_ADDRESS: the cluster's names from the kube-apiserver,
 * nothing forwarded, so no lookup leaves the machine.
 */
export function startClusterDns(options: {
  netns: string;
  dir: string;
  logDir: string;
  kubeconfig: string;
}): number {
  const corefile = join(options.dir, 'Corefile');
  writeFileSync(
    corefile,
    [
      '.:53 {',
      `    bind ${DNS_ADDRESS}`,
      '    errors',
      '    cache 5',
      `    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
      `        kubeconfig ${options.kubeconfig}`,
      '        pods insecure',
      '        ttl 5',
      '    }',
      '}',
      '',
    ].join('\n'),
  );
  const [nsenter, args] = netnsCommand(options.netns, binary('coredns'), ['-conf', corefile]);
  return startDetached(nsenter, args, join(options.logDir, 'coredns.log'));
}
