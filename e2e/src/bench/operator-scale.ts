/**
 * Operator benchmark: the real operator process (operator/src/main.ts, as its pod runs it)
 * against the local control plane; 1,000 Devices are created at once and the figure is the time
 * until their 1,000 worker Deployments exist, with the operator's RSS idle and under that load.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { DEVICE, GROUP, VERSION } from '@switchforge/platform/crd';
import { adminKubeConfig, installCrds } from '../harness/platform-under-test.js';
import { repoRoot } from '@switchforge/testkit/paths';
import { freePort, waitFor, type Infra } from '@switchforge/testkit';
import { startProcess } from './child-process.js';
import { formatBytes, formatRate, formatSeconds, type Figure } from './figures.js';
import { CpuMeter, RssSampler } from './proc-stats.js';
import { parseApiserverRequests, perUnit, requestDelta, type RequestCounts } from './apiserver-requests.js';

export interface OperatorBenchOptions {
  devices: number;
  /** Parallel create requests. */
  concurrency: number;
  timeoutMs: number;
  logDir: string;
  progress: (line: string) => void;
}

export const OPERATOR_DEFAULTS: Omit<OperatorBenchOptions, 'logDir' | 'progress'> = {
  devices: 1000,
  concurrency: 32,
  timeoutMs: 240_000,
};

const NAMESPACE = 'bench-operator';
const POD_NAME = 'switchforge-operator-bench';

function device(i: number): object {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: DEVICE.kind,
    metadata: { name: `leaf-${String(i).padStart(4, '0')}`, namespace: NAMESPACE },
    spec: {
      address: '127.0.0.1',
      port: 57400,
      protocol: 'gnmi',
      credentials: { secretRef: { name: 'bench-login' } },
      tls: { insecure: true },
      encoding: 'json_ietf',
      subscriptions: [
        { path: '/interfaces/interface[name=*]/state/counters', mode: 'sample', sampleInterval: '10s' },
      ],
    },
  };
}

/** Runs `fn` over 0..n-1 with at most `concurrency` in flight. */
async function parallel(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

export async function runOperatorBenchmark(infra: Infra, options: OperatorBenchOptions): Promise<Figure[]> {
  const kc = adminKubeConfig(infra);
  const apps = kc.makeApiClient(AppsV1Api);
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const kubectl = infra.kubernetes.kubectl;

  await installCrds(infra);
  // A namespace of its own, emptied first, so that a re-run measures the same work.
  await kubectl(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--timeout=120s']);
  const created = await kubectl(['create', 'namespace', NAMESPACE]);
  if (created.code !== 0) throw new Error(`creating namespace: ${created.stderr}`);
  const secret = await kubectl([
    'create',
    'secret',
    'generic',
    'bench-login',
    '-n',
    NAMESPACE,
    '--from-literal=username=u',
    '--from-literal=password=p',
  ]);
  if (secret.code !== 0) throw new Error(`creating secret: ${secret.stderr}`);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: infra.kubernetes.kubeconfig,
    POD_NAME,
    SWITCHFORGE_OPERATOR_NAMESPACE: NAMESPACE,
    SWITCHFORGE_WATCH_NAMESPACE: NAMESPACE,
    SWITCHFORGE_HEALTH_PORT: String(await freePort()),
    SWITCHFORGE_METRICS_PORT: String(await freePort()),
    SWITCHFORGE_WORKER_DATABASE_URL: infra.postgres.dsn,
  };
  delete env.TEMPORAL_ADDRESS; // Devices only: the audio controllers are not part of this figure
  const operator = startProcess(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'operator/src/main.ts')],
    {
      cwd: repoRoot,
      env,
      logFile: join(options.logDir, 'operator.log'),
    },
  );
  try {
    options.progress(`operator: started pid ${operator.pid}; waiting for it to lead`);
    await waitFor(
      'the operator to take its leader Lease',
      async () => {
        const lease = await coordination
          .readNamespacedLease({ name: 'switchforge-operator', namespace: NAMESPACE })
          .catch(() => undefined);
        return lease?.spec?.holderIdentity === POD_NAME;
      },
      60_000,
      250,
    ).catch((e: Error) => {
      throw new Error(`${e.message} (operator log: ${operator.logFile})`);
    });
    await sleep(3000); // informers synced, nothing to do
    const idle = new RssSampler(operator.pid).start();
    await sleep(2000);
    const idleRss = idle.stop().last;
    options.progress(
      `operator: idle RSS ${formatBytes(idleRss)}; creating ${options.devices} Devices, ${options.concurrency} at a time`,
    );

    const deployments = async (): Promise<number> => {
      // No label selector, so the apiserver reports remainingItemCount: a count without a full list.
      const page = await apps.listNamespacedDeployment({ namespace: NAMESPACE, limit: 1 });
      return page.items.length + (page.metadata?.remainingItemCount ?? 0);
    };
    const apiserverRequests = async (): Promise<RequestCounts> => {
      const r = await kubectl(['get', '--raw', '/metrics']);
      if (r.code !== 0) throw new Error(`kube-apiserver /metrics: ${r.stderr}`);
      return parseApiserverRequests(r.stdout);
    };
    const requestsBefore = await apiserverRequests();
    const load = new RssSampler(operator.pid).start();
    // Who was busy: on a small machine the control plane competes with the operator for CPU.
    const k8s = infra.kubernetes.pids;
    const meters = {
      operator: new CpuMeter(() => [operator.pid]),
      'kube-apiserver': new CpuMeter(() => [k8s['kube-apiserver']!]),
      etcd: new CpuMeter(() => [k8s.etcd!]),
      'controller-manager + scheduler': new CpuMeter(() => [
        k8s['kube-controller-manager']!,
        k8s['kube-scheduler']!,
      ]),
    };
    Object.values(meters).forEach((m) => m.start());
    const t0 = performance.now();
    let createdAt = 0;
    const creating = parallel(options.devices, options.concurrency, (i) =>
      customObjects.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NAMESPACE,
        plural: DEVICE.plural,
        body: device(i),
      }),
    ).then(() => {
      createdAt = (performance.now() - t0) / 1000;
      options.progress(`  ${formatSeconds(createdAt)}: all ${options.devices} Devices created`);
    });

    let count = 0;
    let lastReport = 0;
    const deadline = t0 + options.timeoutMs;
    while (count < options.devices && performance.now() < deadline) {
      await sleep(250);
      count = await deployments();
      if (performance.now() - lastReport > 2000) {
        lastReport = performance.now();
        options.progress(`  ${((performance.now() - t0) / 1000).toFixed(1)} s: ${count} Deployments`);
      }
    }
    const allAt = (performance.now() - t0) / 1000;
    const cpu = Object.entries(meters)
      .map(([name, m]) => `${name} ${m.stop().toFixed(2)}`)
      .join(', ');
    await creating;
    // Let the reconciles that follow the Deployments' own status changes finish too.
    await sleep(5000);
    const rss = load.stop();
    const requests = perUnit(requestDelta(requestsBefore, await apiserverRequests()), options.devices, [
      'devices',
      'deployments',
      'events',
      'leases',
      'serviceaccounts',
      'roles',
      'rolebindings',
    ]);
    if (count < options.devices) {
      throw new Error(
        `only ${count} of ${options.devices} Deployments after ${formatSeconds(allAt)} (operator log: ${operator.logFile})`,
      );
    }
    options.progress(
      `operator: ${options.devices} Deployments ${formatSeconds(allAt)} after the first create (Devices created in ${formatSeconds(createdAt)})`,
    );
    return [
      {
        benchmark: 'operator',
        figure: `${options.devices} Devices → ${options.devices} worker Deployments`,
        value: formatSeconds(allAt),
        goal: '< 30 s',
        comparison: `${formatRate(options.devices / allAt, 'Devices/s')}; Devices created in ${formatSeconds(createdAt)} (${options.concurrency} parallel)`,
      },
      { benchmark: 'operator', figure: 'CPU used meanwhile', value: `${cpu} cores (of ${cpus().length})` },
      {
        benchmark: 'operator',
        figure: 'kube-apiserver writes per Device (devices, deployments, events, leases, RBAC; all clients)',
        value: requests.writes.toFixed(2),
        comparison: requests.writeList,
      },
      {
        benchmark: 'operator',
        figure: 'kube-apiserver reads per Device (same resources)',
        value: requests.reads.toFixed(2),
        comparison: requests.readList || 'none: informer caches',
      },
      { benchmark: 'operator', figure: 'operator RSS idle', value: formatBytes(idleRss) },
      {
        benchmark: 'operator',
        figure: `operator RSS with ${options.devices} Devices (peak / end)`,
        value: `${formatBytes(rss.peak)} / ${formatBytes(rss.last)}`,
        goal: '< 200 MiB at 1,000',
      },
    ];
  } finally {
    await operator.stop();
    await kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']);
  }
}
