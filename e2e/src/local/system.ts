/**
 * The whole system on this machine (`npm run up`): the real servers, the CRDs, the operator,
 * the pod runner (which runs every worker pod the operator creates), the API, simulated
 * switches with Device resources pointing at them, and an example AudioJob.
 */
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '@switchforge/platform/db';
import { kubectl } from '@switchforge/testkit/kubernetes';
import { cacheDir, repoRoot } from '@switchforge/testkit/paths';
import { freePort, waitFor } from '@switchforge/testkit/ports';
import { isAlive, startDetached, stopProcess, tail } from '@switchforge/testkit/processes';
import { loadState, saveState, startStack, stopStack, type StackState } from '@switchforge/testkit/stack';
import { generateTestPki } from '../simulators/certs.js';

export const SYSTEM_NAMESPACE = 'switchforge-system';
export const LAB_NAMESPACE = 'lab';

export interface SystemProcesses {
  [name: string]: { pid: number; log: string; endpoint?: string };
}

const tsx = (file: string, ...args: string[]) =>
  ['node', ['--import', 'tsx', join(repoRoot, file), ...args]] as const;

function spawnComponent(
  state: StackState,
  procs: SystemProcesses,
  name: string,
  file: string,
  args: string[],
  env: Record<string, string>,
  endpoint?: string,
): void {
  const log = join(state.dir, `${name}.log`);
  const [cmd, cmdArgs] = tsx(file, ...args);
  const pid = startDetached(cmd, cmdArgs, log, { ...process.env, ...env });
  procs[name] = { pid, log, ...(endpoint ? { endpoint } : {}) };
}

export async function startSystem(
  stateDir: string,
): Promise<{ state: StackState; procs: SystemProcesses; lines: string[] }> {
  const existing = loadState(stateDir);
  const state = await startStack(existing ?? { dir: stateDir }, ['postgres', 'kubernetes', 'temporal']);
  const k = state.kubernetes!;
  const pgInfo = state.postgres!;
  const temporal = state.temporal!;
  await migrate({ url: pgInfo.dsn });
  const must = async (args: string[], input?: string) => {
    const r = await kubectl(k, args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await must([
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
  ]);
  await must([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/devices.switchforge.io',
    'crd/audiojobs.switchforge.io',
    'crd/devicediscoveries.switchforge.io',
    'crd/deviceprofiles.switchforge.io',
  ]);
  for (const ns of [SYSTEM_NAMESPACE, LAB_NAMESPACE]) {
    await must(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
    );
  }
  const procsFile = join(state.dir, 'system.json');
  const previous: SystemProcesses = existsSync(procsFile)
    ? (JSON.parse(readFileSync(procsFile, 'utf8')) as SystemProcesses)
    : {};
  for (const p of Object.values(previous)) await stopProcess(p.pid, 3000);
  const procs: SystemProcesses = {};

  // Simulated switches over TLS with credentials, as a real lab would have them.
  const pki = generateTestPki({ days: 30 });
  const gnmiPort = await freePort();
  spawnComponent(
    state,
    procs,
    'gnmi-simulator',
    'e2e/src/simulators/gnmi/main.ts',
    [
      '--port',
      String(gnmiPort),
      '--devices',
      '3',
      '--interfaces',
      '8',
      '--tls-cert',
      pki.server.certFile,
      '--tls-key',
      pki.server.keyFile,
      '--username',
      'telemetry',
      '--password',
      'lab-password',
    ],
    {},
    `127.0.0.1:${gnmiPort}`,
  );

  const storageRoot = join(state.dir, 'audio-storage');
  mkdirSync(storageRoot, { recursive: true });
  const operatorMetrics = await freePort();
  spawnComponent(
    state,
    procs,
    'operator',
    'operator/src/main.ts',
    [],
    {
      KUBECONFIG: k.kubeconfig,
      POD_NAME: 'switchforge-operator-local',
      SWITCHFORGE_OPERATOR_NAMESPACE: SYSTEM_NAMESPACE,
      SWITCHFORGE_HEALTH_PORT: String(await freePort()),
      SWITCHFORGE_METRICS_PORT: String(operatorMetrics),
      SWITCHFORGE_WORKER_DATABASE_URL: pgInfo.dsn,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      AUDIO_STORAGE_ROOT: storageRoot,
      AUDIO_POOL_NAMESPACE: SYSTEM_NAMESPACE,
      // Sources on this machine (a local test server) are loopback, refused by default.
      AUDIO_SOURCE_ALLOW_CIDRS: '127.0.0.1/32',
    },
    `http://127.0.0.1:${operatorMetrics}/metrics`,
  );
  // The pool's database Secret, as the chart would create it.
  await must(
    ['apply', '-n', SYSTEM_NAMESPACE, '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'switchforge-worker-database' },
      stringData: { url: pgInfo.dsn },
    }),
  );
  spawnComponent(state, procs, 'pod-runner', 'e2e/src/pod-runner/main.ts', [state.dir], {
    AUDIO_STORAGE_ROOT: storageRoot,
  });

  if (existsSync(join(repoRoot, 'api/src/main.ts'))) {
    const apiPort = await freePort();
    const apiMetrics = await freePort();
    const graphiql = join(cacheDir, 'graphiql', '4.5.0', 'dist');
    spawnComponent(
      state,
      procs,
      'api',
      'api/src/main.ts',
      [],
      {
        KUBECONFIG: k.kubeconfig,
        SWITCHFORGE_API_MODE: 'development',
        SWITCHFORGE_API_HOST: '127.0.0.1',
        SWITCHFORGE_API_PORT: String(apiPort),
        SWITCHFORGE_METRICS_PORT: String(apiMetrics),
        DATABASE_URL: pgInfo.dsn,
        // Stems are served from the audio volume (Stem.url is the API's download route).
        AUDIO_STORAGE_ROOT: storageRoot,
        ...(existsSync(graphiql) ? { SWITCHFORGE_GRAPHIQL_ASSETS: graphiql } : {}),
      },
      `http://127.0.0.1:${apiPort}/graphql  (GraphiQL; metrics http://127.0.0.1:${apiMetrics}/metrics)`,
    );
  }

  // Prometheus scraping the operator, the API and every worker pod (found through the cluster).
  const promPort = await freePort();
  const promDir = join(state.dir, 'prometheus');
  mkdirSync(promDir, { recursive: true });
  const staticTargets = Object.values(procs)
    .map((p) => /http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(p.endpoint ?? '')?.[1])
    .filter((t): t is string => t !== undefined);
  writeFileSync(
    join(promDir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 5s }',
      'scrape_configs:',
      `  - job_name: switchforge\n    static_configs: [{ targets: ${JSON.stringify(staticTargets)} }]`,
      '  - job_name: switchforge-pods',
      '    kubernetes_sd_configs:',
      `      - { role: pod, kubeconfig_file: ${JSON.stringify(k.kubeconfig)} }`,
      '    relabel_configs:',
      '      - { source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], regex: "true", action: keep }',
      '      - { source_labels: [__meta_kubernetes_pod_ip, __meta_kubernetes_pod_annotation_prometheus_io_port], regex: "(.+);(.+)", replacement: "$1:$2", target_label: __address__ }',
      '      - { source_labels: [__meta_kubernetes_namespace], target_label: namespace }',
      '      - { source_labels: [__meta_kubernetes_pod_name], target_label: pod }',
      '',
    ].join('\n'),
  );
  const promLog = join(state.dir, 'prometheus.log');
  procs.prometheus = {
    pid: startDetached(
      '/usr/bin/prometheus',
      [
        `--config.file=${join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--storage.tsdb.retention.time=1d',
      ],
      promLog,
    ),
    log: promLog,
    endpoint: `http://127.0.0.1:${promPort}`,
  };

  // Lab Devices pointing at the simulator, with their Secrets.
  const docs: object[] = [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'lab-login', namespace: LAB_NAMESPACE },
      stringData: { username: 'telemetry', password: 'lab-password' },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'lab-ca', namespace: LAB_NAMESPACE },
      stringData: { 'ca.crt': pki.ca.cert.toString() },
    },
    ...['device-0', 'device-1', 'device-2'].map((name, i) => ({
      apiVersion: 'switchforge.io/v1alpha1',
      kind: 'Device',
      metadata: { name: `leaf${i + 1}`, namespace: LAB_NAMESPACE },
      spec: {
        address: '127.0.0.1',
        port: gnmiPort,
        protocol: 'gnmi',
        credentials: { secretRef: { name: 'lab-login' } },
        tls: { caSecretRef: { name: 'lab-ca' }, serverName: 'localhost' },
        subscriptions: [
          { path: `/interfaces/interface[name=*]/state/counters`, mode: 'sample', sampleInterval: '5s' },
          { path: `/interfaces/interface[name=*]/state/oper-status`, mode: 'on-change' },
          { path: `/components/component[name=*]/cpu`, mode: 'sample', sampleInterval: '10s' },
        ],
        labels: { site: 'local', target: name },
      },
    })),
  ];
  await must(['apply', '-f', '-'], docs.map((d) => JSON.stringify(d)).join('\n'));
  writeFileSync(procsFile, JSON.stringify(procs, null, 2));
  saveState(state);
  await waitFor('the operator to start', async () => isAlive(procs.operator!.pid), 5000).catch(() => {
    throw new Error(`operator exited:\n${tail(procs.operator!.log)}`);
  });

  const lines = [
    `kubectl     export KUBECONFIG=${k.kubeconfig}; kubectl get devices,audiojobs -A`,
    `postgres    ${pgInfo.dsn}`,
    `temporal    ${temporal.address}`,
    ...Object.entries(procs).map(([name, p]) => `${name.padEnd(11)} ${p.endpoint ?? ''}  (log ${p.log})`),
    `worker pods logs under ${join(state.dir, 'pod-runner', 'logs')}`,
  ];
  return { state, procs, lines };
}

export async function stopSystem(stateDir: string): Promise<void> {
  const procsFile = join(stateDir, 'system.json');
  if (existsSync(procsFile)) {
    const procs = JSON.parse(readFileSync(procsFile, 'utf8')) as SystemProcesses;
    // The pod runner last: it stops the worker pods it started.
    const order = Object.keys(procs).sort((a, b) => (a === 'pod-runner' ? 1 : b === 'pod-runner' ? -1 : 0));
    for (const name of order) await stopProcess(procs[name]!.pid, 10_000);
  }
  const state = loadState(stateDir);
  if (state) await stopStack(state, { removeDir: true });
}
