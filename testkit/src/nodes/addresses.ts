/**
 * The address plan of the local cluster's real nodes. Every address lives inside network
 * namespaces the project creates and deletes (DEVELOPERS.md: network rules): a "cluster" namespace
 * holds the nodes' bridge and the relay to the machine's loopback; each node has a namespace of
 * its own with its pods' bridge. Nothing in them routes to the machine's own network.
 *
 *   cluster ns   br0 10.250.0.1/24 (the nodes' network), lo: 10.255.0.1 (the outside), 10.255.0.10 (DNS)
 *   node i ns    eth0 10.250.0.(11+i)/24, cni0 10.244.i.1/24 (its pods), default via 10.250.0.1
 */

/** The nodes' network: the cluster namespace's bridge and each node's interface on it. */
export const NODE_NETWORK = { cidr: '10.250.0.0/24', prefix: 24, gateway: '10.250.0.1' } as const;
/** All pods; each node takes a /24 of it. */
export const POD_NETWORK = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';
/** The `kubernetes` Service's ClusterIP (the first of SERVICE_CIDR). */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
/**
 * Where pods reach what runs outside the cluster (the kube-apiserver, PostgreSQL, Temporal, the
 * simulated switches): the relay listens here on the same port the server has on 127.0.0.1.
 */
export const OUTSIDE_ADDRESS = '10.255.0.1';
/** The cluster DNS (CoreDNS, in the cluster namespace), the pods' only name server. */
export const DNS_ADDRESS = '10.255.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
/** Most nodes one cluster takes: the pod /24s and node addresses below stay distinct. */
export const MAX_NODES = 200;

export interface NodeAddresses {
  /** The node's InternalIP on the nodes' network. */
  nodeIp: string;
  /** Its pods' range and their gateway (the node's cni0). */
  podCidr: string;
  podGateway: string;
}

export function nodeAddresses(index: number): NodeAddresses {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NODES) {
    throw new RangeError(`node index ${index} is outside 0..${MAX_NODES - 1}`);
  }
  return {
    nodeIp: `10.250.0.${11 + index}`,
    podCidr: `10.244.${index}.0/24`,
    podGateway: `10.244.${index}.1`,
  };
}

/** True when `ip` (dotted IPv4) lies in `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const toInt = (a: string): number | undefined => {
    const parts = a.split('.');
    if (parts.length !== 4) return undefined;
    let n = 0;
    for (const p of parts) {
      if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
      n = n * 256 + Number(p);
    }
    return n;
  };
  const a = toInt(ip);
  const b = base === undefined ? undefined : toInt(base);
  const prefix = Number(bits);
  if (a === undefined || b === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32)
    return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(a / size) === Math.floor(b / size);
}
