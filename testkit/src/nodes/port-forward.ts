/**
 * `kubectl port-forward` as a user runs it to reach a Service from their machine: the kube-apiserver
 * streams to the pod's kubelet (here through its egress to the real nodes), so what the test
 * reaches on 127.0.0.1 is the pod itself, on the pod network.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { binary } from '../paths.js';
import type { KubernetesInfo } from '../kubernetes.js';

export interface PortForward {
  /** http://127.0.0.1:<local port> */
  readonly url: string;
  close(): Promise<void>;
}

/** Forwards a free local port to `target` (`service/name`, `pod/name`) port `remotePort`. */
export async function portForward(
  k: Pick<KubernetesInfo, 'kubeconfig'>,
  namespace: string,
  target: string,
  remotePort: number,
  timeoutMs = 30_000,
): Promise<PortForward> {
  const child = spawn(
    binary('kubectl'),
    [
      '--kubeconfig',
      k.kubeconfig,
      'port-forward',
      '-n',
      namespace,
      '--address',
      '127.0.0.1',
      target,
      `:${remotePort}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`port-forward ${target}: no local port in ${timeoutMs} ms: ${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward ${target} exited (${code}): ${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
