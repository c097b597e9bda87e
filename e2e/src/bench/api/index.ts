/**
 * The API's benchmarks (`runApiBenchmarks`, called by `npm run bench`): live commit-to-receipt
 * latency for 1, 100, 1,000 and 10,000 graphql-ws subscribers on one replica, fan-out rate, RSS
 * per 1,000 subscribers, and the series query on a large metrics table.
 */
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '@switchforge/platform/crd';
import { migrate } from '@switchforge/platform/db';
import { startApiServer } from '@switchforge/api/server';
import type { Authenticator } from '@switchforge/api/auth/kubernetes-auth';
import { BenchPublisher, measureLiveLatency, type LatencyResult } from './live-latency.js';
import { measureSeriesQuery, type SeriesBenchResult } from './series-query.js';

export interface ApiBenchOptions {
  /** Admin kubeconfig of a control plane with the CRDs installed. */
  kubeconfig: string;
  postgresDsn: string;
  subscriberCounts?: number[];
  /** Rows for the series benchmark; 10M by default (SWITCHFORGE_BENCH_SERIES_ROWS overrides). */
  seriesRows?: number;
  log?: (line: string) => void;
}

export interface ApiBenchResults {
  live: LatencyResult[];
  series: SeriesBenchResult;
}

/** Every request is allowed: the benchmark measures the live path, not the apiserver's reviews. */
const allowAll: Authenticator = {
  authenticate: async () => ({ username: 'bench', uid: 'bench', groups: [], extra: {} }),
  authorize: async () => true,
};

export async function runApiBenchmarks(options: ApiBenchOptions): Promise<ApiBenchResults> {
  const log = options.log ?? ((l: string) => console.log(l));
  const live = await runLiveBenchmarks(options);
  const rows = options.seriesRows ?? Number(process.env.SWITCHFORGE_BENCH_SERIES_ROWS ?? 10_000_000);
  const series = await measureSeriesQuery(options.postgresDsn, rows);
  log(
    `series ${series.rows} rows (generated in ${series.generateSeconds.toFixed(0)} s): 24 h → ${series.points} points  p50 ${series.p50Ms.toFixed(1)} ms  p99 ${series.p99Ms.toFixed(1)} ms`,
  );
  return { live, series };
}

/** The live path only: one API replica, one device, 1 to 10,000 graphql-ws subscribers. */
export async function runLiveBenchmarks(
  options: Omit<ApiBenchOptions, 'seriesRows'>,
): Promise<LatencyResult[]> {
  const log = options.log ?? ((l: string) => console.log(l));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(options.kubeconfig);
  const namespace = 'default';
  const name = `bench-${process.pid}`;
  const objects = kubeConfig.makeApiClient(CustomObjectsApi);
  await objects.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'devices',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Device',
      metadata: { name, namespace },
      spec: { address: 'bench.invalid', protocol: 'gnmi', credentials: { secretRef: { name: 'x' } } },
    },
  });
  const schema = `bench_api_${process.pid}`;
  await migrate({ url: options.postgresDsn, schema });
  const publisher = await BenchPublisher.start();
  const api = await startApiServer({
    kubeConfig,
    database: { url: options.postgresDsn, schema },
    mode: 'production',
    authenticator: allowAll,
    rateLimit: { perSecond: 1e9, burst: 1e9 },
    locator: { locate: async () => ({ url: `http://127.0.0.1:${publisher.port}`, holder: 'bench' }) },
  });
  for (let i = 0; i < 100 && !api.services.cache.devices.get(name, namespace); i++)
    await new Promise((r) => setTimeout(r, 100));
  const results: LatencyResult[] = [];
  log(
    'live: API in this process; worker side (LiveFeed + live server) in a child process stamping each commit; ' +
      'graphql-ws clients in child processes (5,000 at most each) stamping each receipt; 100 batches at 10/s, then a burst of 20',
  );
  try {
    for (const n of options.subscriberCounts ?? [1, 100, 1_000, 10_000]) {
      const r = await measureLiveLatency(api, publisher, { namespace, name }, n);
      results.push(r);
      log(
        `live  ${String(n).padStart(6)} subscribers: p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  max ${r.maxMs.toFixed(1)} ms  ` +
          `${r.messages}/${r.batches * n} msgs (${r.dropped} dropped)  fan-out ${Math.round(r.fanoutPerSecond)}/s paced, ${Math.round(r.burstFanoutPerSecond)}/s burst  ` +
          `RSS ${r.rssPer1000SubscribersMiB.toFixed(1)} MiB (heap ${r.heapPer1000SubscribersMiB.toFixed(1)} MiB)/1000 subs  load ${r.loadAverage.toFixed(2)}  (${n} graphql-ws clients in ${r.clientProcesses} process(es))`,
      );
      await new Promise((r2) => setTimeout(r2, 1_000));
    }
  } finally {
    await api.close();
    await publisher.stop();
    await objects
      .deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'devices', name })
      .catch(() => undefined);
  }
  return results;
}

// `node --import tsx e2e/src/bench/api/index.ts <kubeconfig> <dsn> [counts] [rows] [--live-only]`
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/e2e\//, '/e2e/'))) {
  const args = process.argv.slice(2);
  const liveOnly = args.includes('--live-only');
  const [kubeconfig, dsn, counts, rows] = args.filter((a) => !a.startsWith('--'));
  if (!kubeconfig || !dsn) {
    console.error(
      'usage: index.ts <kubeconfig> <postgres-dsn> [subscriber counts, e.g. 1,100,1000] [series rows] [--live-only]',
    );
    process.exit(2);
  }
  const common = {
    kubeconfig,
    postgresDsn: dsn,
    ...(counts ? { subscriberCounts: counts.split(',').map(Number) } : {}),
  };
  if (liveOnly) await runLiveBenchmarks(common);
  else await runApiBenchmarks({ ...common, ...(rows ? { seriesRows: Number(rows) } : {}) });
  process.exit(0);
}
