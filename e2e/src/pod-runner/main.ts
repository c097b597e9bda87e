/**
 * The pod runner as a process: `node --import tsx e2e/src/pod-runner/main.ts <infra state dir> [namespace]`.
 * Runs switchforge pods scheduled to kwok nodes until SIGTERM.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { loadState } from '@switchforge/testkit/stack';
import { repoRoot } from '@switchforge/testkit/paths';
import { PodRunner } from './pod-runner.js';

const [stateDir, namespace] = process.argv.slice(2);
const state = stateDir ? loadState(stateDir) : undefined;
if (!state?.kubernetes) {
  console.error('usage: pod-runner/main.ts <infra state dir with a running kubernetes> [namespace]');
  process.exit(2);
}
const kc = new KubeConfig();
kc.loadFromFile(state.kubernetes.kubeconfig);
const runner = new PodRunner({
  kubeConfig: kc,
  server: state.kubernetes.server,
  caFile: state.kubernetes.pki.caCert,
  labelSelector: 'app.kubernetes.io/name=switchforge',
  ...(namespace ? { namespace } : {}),
  pathMap: { '/app': repoRoot },
  stateDir: join(state.dir, 'pod-runner'),
});
await runner.start();
console.error(JSON.stringify({ msg: 'pod runner started', logs: join(state.dir, 'pod-runner', 'logs') }));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void runner.stop().then(() => process.exit(0));
  });
}
