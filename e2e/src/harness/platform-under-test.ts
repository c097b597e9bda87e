import { migrate } from '@switchforge/platform/db';
import { API_VERSION, DEVICE, type Device } from '@switchforge/platform/crd';
import type { SupervisedInformer } from '@switchforge/platform/kube';
import { InformerFactory } from '@switchforge/platform/kube/informer-factory';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import {
  startGnmiSimulator,
  type GnmiSimulator,
  type GnmiSimulatorOptions,
} from '@switchforge/simulators/gnmi/server';
import { caSecret, loginSecret, namespaceTools } from './manifests.js';
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOperatorConfig } from '@switchforge/operator/config';
import { runOperator } from '@switchforge/operator/operator';
import { freePort, useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { repoRoot } from '@switchforge/testkit/paths';
import { PodRunner } from '../pod-runner/pod-runner.js';

/** A controller of the operator's and the informer that feeds it (discovery, inventory). */
export interface SourceController {
  controller: { start(): void; stop(): Promise<void> };
  informer: { start(): Promise<void>; stop(): Promise<void> };
}

/**
 * Runs one of the operator's Device-source controllers in this process, over namespace `ns` with
 * informers of its own (Devices and the source's), once both have listed; returns its stop.
 */
export async function runSourceController(
  infra: Infra,
  ns: string,
  make: (kc: KubeConfig, informers: InformerFactory, devices: SupervisedInformer<Device>) => SourceController,
): Promise<() => Promise<void>> {
  const kc = adminKubeConfig(infra);
  const informers = new InformerFactory(kc, ns);
  const devices = informers.informer<Device>('devices', { apiVersion: API_VERSION, ...DEVICE });
  const { controller, informer } = make(kc, informers, devices);
  await Promise.all([devices.start(), informer.start()]);
  controller.start();
  return async () => {
    await controller.stop();
    await Promise.all([devices.stop(), informer.stop()]);
  };
}

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
    '-f',
    join(repoRoot, 'crds/devicediscovery.yaml'),
    '-f',
    join(repoRoot, 'crds/deviceprofile.yaml'),
    '-f',
    join(repoRoot, 'crds/deviceinventory.yaml'),
  ]);
  if (r.code !== 0) throw new Error(`applying CRDs: ${r.stderr}`);
  const w = await infra.kubernetes.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/devices.switchforge.io',
    'crd/audiojobs.switchforge.io',
    'crd/devicediscoveries.switchforge.io',
    'crd/deviceprofiles.switchforge.io',
    'crd/deviceinventories.switchforge.io',
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
  options: {
    namespace: string;
    databaseUrl: string;
    identity?: string;
    env?: NodeJS.ProcessEnv;
    /** Operator settings on top of the test defaults (e.g. where workers run, their image). */
    config?: Record<string, string>;
  },
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
      ...options.config,
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

/**
 * What a Device suite runs beside its infra: the database schema of its own (migrated), the
 * operator watching the namespace, and the pod runner starting its worker pods.
 */
export async function startDevicePlatform(
  infra: Infra,
  namespace: string,
): Promise<{ operator: OperatorHandle; pods: PodRunnerHandle; stop(): Promise<void> }> {
  const schema = namespace.replace(/-/g, '_');
  await migrate({ url: infra.postgres.dsn, schema });
  const databaseUrl = `${infra.postgres.dsn}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const operator = await startOperator(infra, { namespace, databaseUrl });
  const pods = await startPodRunner(infra, namespace);
  return {
    operator,
    pods,
    stop: async () => {
      await pods.stop();
      await operator.stop();
    },
  };
}

/**
 * A gNMI simulator as `gnmiDevice` (harness/manifests.ts) expects it: switch leaf1 on loopback,
 * TLS with the test PKI's server certificate, the login of `labSwitchSecrets`.
 */
export function startLabSwitch(
  pki: TestPki,
  options: Partial<GnmiSimulatorOptions> = {},
): Promise<GnmiSimulator> {
  return startGnmiSimulator({
    deviceNames: ['leaf1'],
    interfaces: 2,
    tls: { cert: pki.server.cert, key: pki.server.key },
    credentials: { username: 'telemetry', password: 's3cret' },
    ...options,
  });
}

/** The Secrets `gnmiDevice` names, for the switch `startLabSwitch` starts. */
export function labSwitchSecrets(pki: TestPki): object[] {
  return [loginSecret({ name: 'login' }, 'telemetry', 's3cret'), caSecret({ name: 'lab-ca' }, pki.ca.cert)];
}

export { waitFor };

/** What a Device suite against the lab switch holds, and how it ends. */
export interface LabDeviceSuite {
  infra: Infra;
  pki: TestPki;
  sim: GnmiSimulator;
  platform: Awaited<ReturnType<typeof startDevicePlatform>>;
  stop(): Promise<void>;
}

/**
 * The usual `before` of a Device suite: Kubernetes and PostgreSQL, the CRDs, namespace `ns` with
 * the lab switch's Secrets, the gNMI lab switch, and the operator and pod runner for `ns`.
 */
export async function startLabDeviceSuite(
  ns: string,
  simulator: Partial<GnmiSimulatorOptions> = {},
): Promise<LabDeviceSuite> {
  const infra = await useInfra({ kubernetes: true, postgres: true });
  const { kubectl, apply } = namespaceTools(() => infra, ns);
  await installCrds(infra);
  const created = await kubectl('create', 'namespace', ns);
  if (created.code !== 0) throw new Error(`kubectl create namespace ${ns}: ${created.stderr}`);
  const pki = generateTestPki();
  const sim = await startLabSwitch(pki, simulator);
  await apply(...labSwitchSecrets(pki));
  const platform = await startDevicePlatform(infra, ns);
  return {
    infra,
    pki,
    sim,
    platform,
    stop: async () => {
      await platform.stop();
      await sim.stop();
      pki.remove();
      await kubectl('delete', 'namespace', ns, '--wait=false');
      await infra.stop();
    },
  };
}
