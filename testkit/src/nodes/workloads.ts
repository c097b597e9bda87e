/**
 * What a workload needs to run on the real nodes: their node selector and taint toleration, and
 * the addresses of the machine's servers as pods reach them (through the relay).
 */
import { OUTSIDE_ADDRESS } from './addresses.js';
import { exposeToRealNodes, REAL_NODE_LABEL, REAL_NODE_TAINT, type RealNodes } from './real-nodes.js';

/** The pod spec fields that put a pod on the real nodes (tainted when kwok nodes are there too). */
export const onRealNodes = {
  nodeSelector: { [REAL_NODE_LABEL]: 'true' },
  tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Exists' as const, effect: REAL_NODE_TAINT.effect }],
};

/** Operator settings that run device workers from the imported image on the real nodes. */
export function realNodeWorkerConfig(): Record<string, string> {
  return {
    SWITCHFORGE_WORKER_PULL_POLICY: 'Never',
    SWITCHFORGE_WORKER_NODE_SELECTOR: JSON.stringify(onRealNodes.nodeSelector),
    SWITCHFORGE_WORKER_TOLERATIONS: JSON.stringify(onRealNodes.tolerations),
  };
}

/** A URL on 127.0.0.1 of this machine, rewritten to the address pods reach it on (and exposed). */
export async function podReachableUrl(nodes: RealNodes, url: string): Promise<string> {
  const u = new URL(url);
  const port = Number(u.port);
  if (!['127.0.0.1', 'localhost'].includes(u.hostname) || !port) {
    throw new Error(`${url}: only a loopback URL with a port can be reached from the real nodes`);
  }
  await exposeToRealNodes(nodes, port);
  u.hostname = OUTSIDE_ADDRESS;
  return u.toString();
}
