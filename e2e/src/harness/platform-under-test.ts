import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOperatorConfig } from '../../../operator/src/config.js';
import { runOperator } from '../../../operator/src/operator.js';
import { freePort, waitFor, type Infra } from '../infra/suite.js';
import { repoRoot } from '../infra/paths.js';
import { PodRunner } from '../pod-runner/pod-runner.js';

/** Applies the CRDs and waits until the apiserver serves them. Idempotent; shared clusters keep them. */
export async function installCrds(infra: Infra): Promise<void> {
  const r = await infra.kubernetes.kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(repoRoot, 'crds/device.yaml'),
    '-f',
    join(repoRoot, 'crds/audiojob.yaml'),
  ]);
  if (r.code !== 0) throw new Error(`applying CRDs: ${r.stderr}`);
  const w = await infra.kubernetes.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/devices.switchforge.io',
    'crd/audiojobs.switchforge.io',
  ]);
  if (w.code !== 0) throw new Error(`waiting for CRDs: ${w.stderr}`);
}

export function adminKubeConfig(infra: Infra): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(infra.kubernetes.kubeconfig);
  return kc;
}

export interface OperatorHandle {
  stop(): Promise<void>;
  /** Stops it abruptly, as a crash would (no lease release), then starts a new one. */
  restart(): Promise<void>;
}

/**
 * Runs the real operator in this process against the test cluster. `env` is what the audio
 * controllers read (TEMPORAL_ADDRESS, AUDIO_*); without TEMPORAL_ADDRESS it manages Devices only.
 */
export async function startOperator(
  infra: Infra,
  options: { namespace: string; databaseUrl: string; identity?: string; env?: NodeJS.ProcessEnv },
): Promise<OperatorHandle> {
  let abort = new AbortController();
  let running: Promise<unknown>;
  const start = async () => {
    const config = readOperatorConfig({
      POD_NAME: options.identity ?? `operator-${process.pid}-${Date.now()}`,
      SWITCHFORGE_OPERATOR_NAMESPACE: options.namespace,
      SWITCHFORGE_WATCH_NAMESPACE: options.namespace,
      SWITCHFORGE_HEALTH_PORT: String(await freePort()),
      SWITCHFORGE_WORKER_DATABASE_URL: options.databaseUrl,
      SWITCHFORGE_LEADER_LEASE_SECONDS: '4',
    });
    abort = new AbortController();
    running = runOperator(config, adminKubeConfig(infra), abort.signal, options.env ?? {});
  };
  await start();
  return {
    stop: async () => {
      abort.abort();
      await running;
    },
    restart: async () => {
      abort.abort();
      await running;
      await start();
    },
  };
}

export interface PodRunnerHandle {
  runner: PodRunner;
  stop(): Promise<void>;
}

/** The kubelet stand-in for kwok nodes: runs switchforge pods as local processes. */
export async function startPodRunner(
  infra: Infra,
  namespace?: string,
  imageEnv?: Record<string, string>,
): Promise<PodRunnerHandle> {
  const stateDir = mkdtempSync(join(tmpdir(), 'switchforge-pods-'));
  const runner = new PodRunner({
    kubeConfig: adminKubeConfig(infra),
    server: infra.kubernetes.server,
    caFile: infra.kubernetes.pki.caCert,
    labelSelector: 'app.kubernetes.io/name=switchforge',
    ...(namespace ? { namespace } : {}),
    pathMap: { '/app': repoRoot },
    stateDir,
    ...(imageEnv ? { imageEnv } : {}),
  });
  await runner.start();
  return {
    runner,
    stop: async () => {
      await runner.stop();
      if (!process.env.SWITCHFORGE_KEEP_POD_LOGS) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export { waitFor };
