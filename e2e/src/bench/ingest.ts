/**
 * Ingest benchmark: updates per second from one gNMI stream into committed PostgreSQL rows, for
 * the real device worker process (`worker/src/main.ts device`, started with the env the operator
 * gives its pod) and, in the same run against the same database, for Telegraf's gnmi input and
 * postgresql output. Both read a simulator in a separate process offering more than they take;
 * committed rows are counted in PostgreSQL the same way for both.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { migrate } from '@switchforge/platform/db';
import { deviceLeaseName } from '@switchforge/platform/device-worker';
import {
  EXPECTED_RATE_ANNOTATION,
  WORKER_MEMORY_ENV,
  workerMemoryPlan,
  workerNodeOptions,
  type WorkerMemoryPlan,
} from '@switchforge/platform/worker-memory';
import { installCrds } from '../harness/platform-under-test.js';
import { localCommand } from '../infra/local-command.js';
import { binary, repoRoot } from '@switchforge/testkit/paths';
import { freePort, waitFor, type Infra } from '@switchforge/testkit';
import { startProcess, type BenchProcess } from './child-process.js';
import { formatBytes, formatRate, formatSeconds, ratio, type Figure } from './figures.js';
import { startSimulatorProcess, SIM_PASSWORD, SIM_USERNAME } from './gnmi-simulator-process.js';
import {
  childPids,
  CpuMeter,
  memoryBreakdown,
  RssSampler,
  rssBytes,
  type MemoryBreakdown,
} from './proc-stats.js';
import { scrapeSums } from './prometheus-text.js';
import { measureRate, type RateMeasurement } from './rate.js';
import { telegrafConfig } from './telegraf-config.js';
import { startOtelCollector } from '../harness/otel-collector.js';
import { DEFAULT_WORKER_COMMAND } from '@switchforge/operator/config';

export interface IngestOptions {
  /** Interfaces on the simulated switch: 5 counters each. Must exceed one firehose tick's worth
   * of counters, so that no leaf repeats within a millisecond (the rows' key holds ms timestamps). */
  interfaces: number;
  /** Updates per second the simulator offers (more than either consumer takes). */
  offeredRate: number;
  /** Updates per gNMI Notification. */
  batchSize: number;
  warmupMs: number;
  windowMs: number;
  logDir: string;
  progress: (line: string) => void;
}

export const INGEST_DEFAULTS: Omit<IngestOptions, 'logDir' | 'progress'> = {
  interfaces: 4000,
  offeredRate: 400_000,
  batchSize: 1000,
  warmupMs: 5000,
  windowMs: 20_000,
};

const NAMESPACE = 'bench-ingest';
const WORKER_SCHEMA = 'bench_ingest';
const TELEGRAF_SCHEMA = 'bench_telegraf';
const DEVICE = 'leaf1';
const COUNTERS = '/interfaces/interface[name=*]/state/counters';
const MEASUREMENT = 'ifcounters';
const GOAL = 100_000;
const WORKER_BATCH = 5000;
const WORKER_FLUSH_MS = 200;
const WORKER_BUFFER = 500_000;
/** The worker's own counters (Prometheus names of switchforge.gnmi.updates.received and so on). */
const RECEIVED = 'switchforge_gnmi_updates_received_total';
const DROPPED = 'switchforge_worker_updates_dropped_total';

export async function runIngestBenchmark(infra: Infra, options: IngestOptions): Promise<Figure[]> {
  const db = new pg.Client({ connectionString: infra.postgres.dsn });
  await db.connect();
  try {
    options.progress('ingest: CRDs, namespace, schema, Secret');
    const setup = await prepareWorker(infra, db);
    let typical: SmallDeviceResult;
    let worker: WorkerResult;
    let withOutputs: WorkerResult;
    try {
      typical = await benchTypicalWorker(infra, db, setup, options);
      worker = await benchWorker(infra, db, setup, options);
      withOutputs = await benchWorkerWithOutputs(infra, db, setup, options);
    } finally {
      rmSync(setup.mountRoot, { recursive: true, force: true });
    }
    const telegrafTypical = await benchTelegrafTypical(infra, db, options);
    const telegraf = await benchTelegraf(infra, db, options);
    const figures: Figure[] = [
      ...typicalFigures(typical, telegrafTypical),
      {
        benchmark: 'ingest',
        figure: 'worker with the Prometheus and OTLP outputs on: gNMI updates → committed rows',
        value: formatRate(withOutputs.rate.rate),
        goal: 'no lower than with the outputs off',
        comparison: `outputs off ${formatRate(worker.rate.rate)} (${ratio(withOutputs.rate.rate, worker.rate.rate, 'off')})`,
      },
      {
        benchmark: 'ingest',
        figure: 'worker: gNMI updates → committed rows, 1 process',
        value: formatRate(worker.rate.rate),
        goal: `≥ ${formatRate(GOAL)}, ahead of Telegraf`,
        comparison: [
          telegraf.kind === 'measured'
            ? ratio(worker.rate.rate, telegraf.updatesPerSecond, 'Telegraf')
            : telegraf.reason,
          limitNote(worker.rate.rate, options.offeredRate),
        ]
          .filter(Boolean)
          .join('; '),
      },
      workerCounters(worker),
      { benchmark: 'ingest', figure: 'worker run: CPU used', value: cpuNote('worker', worker.cpu) },
      {
        benchmark: 'ingest',
        figure: 'CPU per update (process + PostgreSQL)',
        value: perUpdate(worker, worker.rate.rate),
        ...(telegraf.kind === 'measured'
          ? { comparison: `Telegraf ${perUpdate(telegraf, telegraf.updatesPerSecond)}` }
          : {}),
      },
      {
        benchmark: 'ingest',
        figure: 'firehose worker RSS before the firehose (1 stream at 10 s)',
        value: formatBytes(worker.idleRss),
        comparison: `plan for ${formatRate(worker.plan.updatesPerSecond)}: ${workerNodeOptions(worker.plan)}, limit ${formatBytes(worker.plan.limitBytes)}`,
      },
      {
        benchmark: 'ingest',
        figure: 'worker RSS at full rate (peak / end)',
        value: `${formatBytes(worker.rss.peak)} / ${formatBytes(worker.rss.last)}`,
        goal: `≤ ${formatBytes(FULL_GOAL)} at 100k updates/s`,
        ...(telegraf.kind === 'measured'
          ? { comparison: `Telegraf ${formatBytes(telegraf.rss.peak)} / ${formatBytes(telegraf.rss.last)}` }
          : {}),
      },
    ];
    if (telegraf.kind === 'measured') {
      figures.push(
        {
          benchmark: 'ingest',
          figure: 'Telegraf 1.37.2 gnmi → postgresql, 1 process',
          value: formatRate(telegraf.updatesPerSecond),
          comparison: [
            `${formatRate(telegraf.rate.rate, 'rows/s')} × ${telegraf.fieldsPerRow.toFixed(2)} fields/row`,
            limitNote(telegraf.updatesPerSecond, options.offeredRate),
          ]
            .filter(Boolean)
            .join('; '),
        },
        { benchmark: 'ingest', figure: 'Telegraf run: CPU used', value: cpuNote('telegraf', telegraf.cpu) },
      );
    }
    return figures;
  } finally {
    await db.end();
  }
}

const IDLE_GOAL = 64 * 2 ** 20;
const TYPICAL_GOAL = 96 * 2 ** 20;
const FULL_GOAL = 150 * 2 ** 20;
const GiB = 2 ** 30;

function typicalFigures(
  t: SmallDeviceResult,
  telegraf: { last: MemoryBreakdown; peakRss: number } | undefined,
): Figure[] {
  const mem = (m: MemoryBreakdown) =>
    `${formatBytes(m.rss)} (anonymous ${formatBytes(m.anon)}, PSS ${formatBytes(m.pss)})`;
  const perGiB = (bytes: number) => Math.floor(GiB / bytes).toString();
  return [
    {
      benchmark: 'ingest',
      figure: 'worker start → first committed row',
      value: formatSeconds(t.firstRowMs / 1000),
      goal: '< 1 s',
      comparison:
        'spawn to row in PostgreSQL: module loading, Device list, Lease, gNMI Subscribe, first COPY',
    },
    {
      benchmark: 'ingest',
      figure: 'worker RSS idle, connected, 3 subscriptions',
      value: mem(t.idle.last),
      goal: `≤ ${formatBytes(IDLE_GOAL)}`,
      comparison: `${workerCommand().join(' ')}; plan for ${formatRate(t.plan.updatesPerSecond)}: ${workerNodeOptions(t.plan)}, limit ${formatBytes(t.plan.limitBytes)}`,
    },
    {
      benchmark: 'ingest',
      figure: `worker RSS at ${formatRate(TYPICAL_RATE)} (last / peak)`,
      value: `${mem(t.typical.last)} / ${formatBytes(t.typical.peakRss)}`,
      goal: `≤ ${formatBytes(TYPICAL_GOAL)}`,
      comparison: [
        `${formatRate(t.typical.rate)} committed`,
        telegraf ? `Telegraf ${mem(telegraf.last)} / ${formatBytes(telegraf.peakRss)}` : 'Telegraf not built',
      ].join('; '),
    },
    {
      benchmark: 'ingest',
      figure: `devices per GiB of node memory at ${formatRate(TYPICAL_RATE)} each (by RSS / by PSS)`,
      value: `${perGiB(t.typical.peakRss)} / ${perGiB(t.typical.last.pss)}`,
      ...(telegraf
        ? { comparison: `Telegraf ${perGiB(telegraf.peakRss)} / ${perGiB(telegraf.last.pss)}` }
        : {}),
    },
  ];
}

/** What the worker decoded and dropped, by its own counters: tells a writer-bound run apart. */
function workerCounters(worker: WorkerResult): Figure {
  const figure = 'worker: decoded / dropped (buffer full), by its own counters';
  const received = worker.counterRates?.[RECEIVED] ?? 0;
  if (!(received > 0)) {
    return { benchmark: 'ingest', figure, value: `not exported (${RECEIVED} absent from its /metrics)` };
  }
  const dropped = worker.counterRates?.[DROPPED] ?? 0;
  return {
    benchmark: 'ingest',
    figure,
    value: `${formatRate(received)} / ${formatRate(dropped)}`,
    ...(dropped > 0 ? { comparison: 'writer-bound: PostgreSQL commits less than the session decodes' } : {}),
  };
}

function limitNote(rate: number, offered: number): string {
  return rate > 0.9 * offered
    ? `near the offered ${formatRate(offered)}: the simulator may be the limit`
    : '';
}

/** A row count that tolerates a table not created yet (Telegraf creates it on first write). */
async function countRows(db: pg.Client, table: string): Promise<number> {
  const exists = await db.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [table]);
  if (!exists.rows[0]?.ok) return 0;
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(r.rows[0]!.n);
}

interface ConsumerRun {
  rate: RateMeasurement;
  /** Per second over the window, from the consumer's own counters where it exposes them. */
  counterRates?: Record<string, number>;
  rss: { peak: number; last: number };
  cpu: CpuShares;
}

interface WorkerResult extends ConsumerRun {
  idleRss: number;
  plan: WorkerMemoryPlan;
}

/** Counts committed rows over the window while sampling the consumer's RSS and everyone's CPU. */
async function measureConsumer(
  db: pg.Client,
  table: string,
  pids: { pid: number; simulatorPid: number; postgres: () => number[] },
  options: IngestOptions,
  who: string,
  /** The consumer's own counters (a Prometheus scrape), read at the window's start and end. */
  counters?: () => Promise<Record<string, number>>,
): Promise<ConsumerRun> {
  const rss = new RssSampler(pids.pid, 250);
  let countersAtStart: Promise<{ at: number; values: Record<string, number> }> | undefined;
  const readCounters = async () => ({ at: performance.now(), values: await counters!() });
  const cpu = {
    consumer: new CpuMeter(() => [pids.pid]),
    simulator: new CpuMeter(() => [pids.simulatorPid]),
    postgres: new CpuMeter(pids.postgres),
  };
  const rate = await measureRate({
    count: () => countRows(db, table),
    warmupMs: options.warmupMs,
    windowMs: options.windowMs,
    startTimeoutMs: 90_000,
    onFirstRows: () => void rss.start(),
    onWindowStart: () => {
      Object.values(cpu).forEach((m) => m.start());
      if (counters) countersAtStart = readCounters();
    },
    onProgress: (_, perSecond) => options.progress(`  ${who}: ${formatRate(perSecond, 'rows/s')}`),
  });
  let counterRates: Record<string, number> | undefined;
  if (countersAtStart) {
    const [a, b] = [await countersAtStart, await readCounters()];
    const seconds = (b.at - a.at) / 1000;
    counterRates = Object.fromEntries(
      Object.keys(b.values).map((k) => [k, (b.values[k]! - (a.values[k] ?? 0)) / seconds]),
    );
  }
  const shares = {
    consumer: cpu.consumer.stop(),
    simulator: cpu.simulator.stop(),
    postgres: cpu.postgres.stop(),
  };
  const r = rss.stop();
  return {
    rate,
    rss: { peak: r.peak, last: r.last },
    cpu: shares,
    ...(counterRates ? { counterRates } : {}),
  };
}

interface Subscription {
  path: string;
  mode: 'sample' | 'on-change';
  sampleInterval?: string;
}

function deviceManifest(
  port: number,
  subscriptions: Subscription[],
  expectedRate: number,
  outputs?: object,
): object {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    // What the Device asks for sizes its worker (platform/src/worker-memory.ts).
    metadata: {
      name: DEVICE,
      namespace: NAMESPACE,
      annotations: { [EXPECTED_RATE_ANNOTATION]: String(expectedRate) },
    },
    spec: {
      address: '127.0.0.1',
      port,
      protocol: 'gnmi',
      credentials: { secretRef: { name: `${DEVICE}-login` } },
      tls: { insecure: true },
      encoding: 'json_ietf',
      subscriptions,
      ...(outputs ? { outputs } : {}),
    },
  };
}

const counters = (sampleInterval: string): Subscription => ({
  path: COUNTERS,
  mode: 'sample',
  sampleInterval,
});
/** A typical switch's three: counters sampled, oper-status on change, CPU sampled. */
const THREE_SUBSCRIPTIONS: Subscription[] = [
  counters('10s'),
  { path: '/interfaces/interface[name=*]/state/oper-status', mode: 'on-change' },
  { path: '/components/component[name=*]/cpu', mode: 'sample', sampleInterval: '10s' },
];

interface WorkerSetup {
  apply: (doc: object) => Promise<void>;
  mountRoot: string;
}

/** CRDs, namespace, a fresh schema, the login Secret and its files as the pod runner lays them out. */
async function prepareWorker(infra: Infra, db: pg.Client): Promise<WorkerSetup> {
  const kubectl = infra.kubernetes.kubectl;
  await installCrds(infra);
  const ns = await kubectl(['create', 'namespace', NAMESPACE]);
  if (ns.code !== 0 && !/AlreadyExists/.test(ns.stderr)) throw new Error(`creating namespace: ${ns.stderr}`);
  await db.query(`DROP SCHEMA IF EXISTS ${WORKER_SCHEMA} CASCADE`);
  await migrate({ url: infra.postgres.dsn, schema: WORKER_SCHEMA });
  const apply = async (doc: object) => {
    const r = await kubectl(['apply', '-n', NAMESPACE, '-f', '-'], JSON.stringify(doc));
    if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
  };
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${DEVICE}-login` },
    stringData: { username: SIM_USERNAME, password: SIM_PASSWORD },
  });
  const mountRoot = mkdtempSync(join(tmpdir(), 'switchforge-bench-mounts-'));
  const credentials = join(mountRoot, 'var/run/switchforge/credentials');
  mkdirSync(credentials, { recursive: true });
  writeFileSync(join(credentials, 'username'), SIM_USERNAME);
  writeFileSync(join(credentials, 'password'), SIM_PASSWORD);
  return { apply, mountRoot };
}

/**
 * The worker process as its pod runs it: the operator's default command and the environment the
 * operator derives from the Device's memory plan (NODE_OPTIONS, limit, buffer and ring sizes).
 */
async function startWorker(
  infra: Infra,
  setup: WorkerSetup,
  plan: WorkerMemoryPlan,
  options: IngestOptions,
  name: string,
): Promise<{ process: BenchProcess; metricsPort: number; startedAt: number }> {
  const metricsPort = await freePort();
  const startedAt = performance.now();
  const proc = startProcess(
    process.execPath,
    [
      // SWITCHFORGE_BENCH_CPU_PROF_DIR: a V8 CPU profile of the worker, written when it stops.
      ...(process.env.SWITCHFORGE_BENCH_CPU_PROF_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SWITCHFORGE_BENCH_CPU_PROF_DIR}`]
        : []),
      // SWITCHFORGE_BENCH_HEAP_SNAPSHOTS: a heap snapshot into the log dir on SIGUSR2 (sent when idle).
      ...(process.env.SWITCHFORGE_BENCH_HEAP_SNAPSHOTS
        ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.logDir}`]
        : []),
      // The operator's default worker command, run from the repository as the image runs it, or
      // SWITCHFORGE_BENCH_WORKER_COMMAND (a JSON array, e.g. a compiled worker) in its place.
      ...workerCommand().slice(1),
    ],
    {
      cwd: repoRoot,
      logFile: join(options.logDir, `${name}.log`),
      env: {
        ...process.env,
        NODE_OPTIONS: workerNodeOptions(plan),
        KUBECONFIG: infra.kubernetes.kubeconfig,
        SWITCHFORGE_DEVICE_NAME: DEVICE,
        SWITCHFORGE_DEVICE_NAMESPACE: NAMESPACE,
        POD_NAME: `${DEVICE}-${name}`,
        POD_IP: '127.0.0.1',
        SWITCHFORGE_LEASE_NAME: deviceLeaseName(DEVICE),
        SWITCHFORGE_LEASE_DURATION_SECONDS: '8',
        SWITCHFORGE_DATABASE_URL: infra.postgres.dsn,
        SWITCHFORGE_DATABASE_SCHEMA: WORKER_SCHEMA,
        SWITCHFORGE_HEALTH_PORT: String(await freePort()),
        SWITCHFORGE_METRICS_PORT: String(metricsPort),
        SWITCHFORGE_LIVE_PORT: String(await freePort()),
        SWITCHFORGE_BATCH_SIZE: String(WORKER_BATCH),
        SWITCHFORGE_FLUSH_INTERVAL_MS: String(WORKER_FLUSH_MS),
        [WORKER_MEMORY_ENV.maxBufferedSamples]: String(plan.maxBufferedSamples),
        [WORKER_MEMORY_ENV.limitBytes]: String(plan.limitBytes),
        [WORKER_MEMORY_ENV.liveRingBytes]: String(plan.liveRingBytes),
        SWITCHFORGE_MOUNT_ROOT: setup.mountRoot,
        OTEL_SERVICE_NAME: 'switchforge-device-worker',
      },
    },
  );
  return { process: proc, metricsPort, startedAt };
}

/** Samples RSS, anonymous RSS and PSS for `ms`; the last reading and the peak RSS. */
async function memoryOver(pid: number, ms: number): Promise<{ last: MemoryBreakdown; peakRss: number }> {
  const sampler = new RssSampler(pid, 250).start();
  await sleep(ms);
  const peakRss = sampler.stop().peak;
  const last = memoryBreakdown(pid);
  if (!last) throw new Error(`process ${pid} exited while its memory was measured`);
  return { last, peakRss };
}

const TYPICAL_RATE = 2000;

function workerCommand(): readonly string[] {
  const override = process.env.SWITCHFORGE_BENCH_WORKER_COMMAND;
  // The operator's default worker command from the repository: its sources under tsx, or with
  // SWITCHFORGE_BENCH_COMPILED=1 the compiled dist/ the image runs (after `npm run build`).
  if (!override)
    return localCommand(
      DEFAULT_WORKER_COMMAND,
      repoRoot,
      process.env.SWITCHFORGE_BENCH_COMPILED === '1' ? 'compiled' : 'source',
    );
  const parsed: unknown = JSON.parse(override);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string'))
    throw new Error('SWITCHFORGE_BENCH_WORKER_COMMAND must be a JSON array of strings');
  return parsed as string[];
}

interface SmallDeviceResult {
  /** Spawn → first committed row, ms. */
  firstRowMs: number;
  idle: { last: MemoryBreakdown; peakRss: number };
  typical: { last: MemoryBreakdown; peakRss: number; rate: number };
  plan: WorkerMemoryPlan;
}

/**
 * A typical switch: a worker sized for 2,000 updates/s, first with three subscriptions on a quiet
 * switch (idle, connected), then with its counters at 2,000 updates/s.
 */
async function benchTypicalWorker(
  infra: Infra,
  db: pg.Client,
  setup: WorkerSetup,
  options: IngestOptions,
): Promise<SmallDeviceResult> {
  const plan = workerMemoryPlan(TYPICAL_RATE);
  const table = `${WORKER_SCHEMA}.metric_samples`;
  await db.query(`TRUNCATE ${table}`);
  const quiet = await startSimulatorProcess({
    interfaces: 48,
    rate: 0,
    batchSize: options.batchSize,
    logDir: options.logDir,
    name: 'gnmi-sim-quiet',
  });
  let busy: Awaited<ReturnType<typeof startSimulatorProcess>> | undefined;
  await setup.apply(deviceManifest(quiet.port, THREE_SUBSCRIPTIONS, TYPICAL_RATE));
  const worker = await startWorker(infra, setup, plan, options, 'worker-typical');
  try {
    options.progress(
      `ingest/typical: worker pid ${worker.process.pid} (${workerNodeOptions(plan)}); waiting for its first row`,
    );
    await waitFor("the worker's first row", async () => (await countRows(db, table)) > 0, 90_000, 20).catch(
      (e: Error) => {
        throw new Error(`${e.message} (worker log: ${worker.process.logFile})`);
      },
    );
    const firstRowMs = performance.now() - worker.startedAt;
    await sleep(10_000);
    const idle = await memoryOver(worker.process.pid, 3000);
    if (process.env.SWITCHFORGE_BENCH_HEAP_SNAPSHOTS) {
      process.kill(worker.process.pid, 'SIGUSR2');
      await sleep(10_000);
    }
    options.progress(
      `ingest/typical: first row after ${firstRowMs.toFixed(0)} ms; idle RSS ${formatBytes(idle.last.rss)}`,
    );
    busy = await startSimulatorProcess({
      interfaces: 400,
      rate: TYPICAL_RATE,
      batchSize: 200,
      logDir: options.logDir,
      name: 'gnmi-sim-typical',
    });
    await setup.apply(deviceManifest(busy.port, [counters('1s')], TYPICAL_RATE));
    await sleep(5000);
    const before = await countRows(db, table);
    const at = performance.now();
    const typical = await memoryOver(worker.process.pid, 20_000);
    const rate = ((await countRows(db, table)) - before) / ((performance.now() - at) / 1000);
    options.progress(`ingest/typical: ${formatRate(rate)}, RSS ${formatBytes(typical.last.rss)}`);
    return { firstRowMs, idle, typical: { ...typical, rate }, plan };
  } finally {
    await worker.process.stop();
    await quiet.stop();
    await busy?.stop();
  }
}

/**
 * The same firehose run with both outputs on (spec.outputs): a Prometheus endpoint scraped every
 * second while it runs, and OTLP every 5 s to a real OpenTelemetry Collector. Ingest into
 * PostgreSQL must not drop below the run with the outputs off.
 */
async function benchWorkerWithOutputs(
  infra: Infra,
  db: pg.Client,
  setup: WorkerSetup,
  options: IngestOptions,
): Promise<WorkerResult> {
  const collector = await startOtelCollector();
  const port = await freePort();
  const abort = new AbortController();
  let scrapes = 0;
  const scraping = (async () => {
    while (!abort.signal.aborted) {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: abort.signal }).catch(
        () => undefined,
      );
      if (r?.ok) {
        await r.text();
        scrapes++;
      }
      await sleep(1000, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  })();
  try {
    const result = await benchWorker(infra, db, setup, options, {
      name: 'device-worker-outputs',
      outputs: {
        // 5 counters × every interface, with room.
        maxSeries: options.interfaces * 5 * 2,
        prometheus: { port },
        otlp: { endpoint: collector.endpoint, intervalSeconds: 5 },
      },
    });
    options.progress(
      `ingest/worker with outputs: ${scrapes} scrapes, ${collector.points().length} OTLP points at the collector`,
    );
    return result;
  } finally {
    abort.abort();
    await scraping;
    await collector.stop();
  }
}

async function benchWorker(
  infra: Infra,
  db: pg.Client,
  setup: WorkerSetup,
  options: IngestOptions,
  /** spec.outputs of the run (the outputs-on variant), and its name in logs. */
  variant?: { outputs: object; name: string },
): Promise<WorkerResult> {
  // A firehose Device asks for its rate; its plan gives the worker a large young generation.
  const plan = workerMemoryPlan(options.offeredRate / 4);
  const table = `${WORKER_SCHEMA}.metric_samples`;
  await db.query(`TRUNCATE ${table}`);
  const idleSim = await startSimulatorProcess({
    interfaces: options.interfaces,
    rate: 0,
    batchSize: options.batchSize,
    logDir: options.logDir,
    name: 'gnmi-sim-idle',
  });
  let fullSim: Awaited<ReturnType<typeof startSimulatorProcess>> | undefined;
  await setup.apply(deviceManifest(idleSim.port, [counters('10s')], plan.updatesPerSecond, variant?.outputs));
  const started = await startWorker(infra, setup, plan, options, variant?.name ?? 'device-worker');
  const worker = started.process;
  try {
    options.progress(
      `ingest/worker: started pid ${worker.pid} (${workerNodeOptions(plan)}); waiting for its first rows`,
    );
    await waitFor("the worker's first rows", async () => (await countRows(db, table)) > 0, 90_000, 500).catch(
      (e: Error) => {
        throw new Error(`${e.message} (worker log: ${worker.logFile})`);
      },
    );
    await sleep(5000);
    const idle = new RssSampler(worker.pid, 250).start();
    await sleep(3000);
    const idleRss = idle.stop().last;
    options.progress(
      `ingest/worker: idle RSS ${formatBytes(idleRss)}; switching the Device to a simulator offering ${formatRate(options.offeredRate)}`,
    );

    fullSim = await startSimulatorProcess({
      interfaces: options.interfaces,
      rate: options.offeredRate,
      batchSize: options.batchSize,
      logDir: options.logDir,
      name: 'gnmi-sim-worker',
    });
    await setup.apply(
      deviceManifest(fullSim.port, [counters('1s')], plan.updatesPerSecond, variant?.outputs),
    );
    const full = await measureConsumer(
      db,
      table,
      { pid: worker.pid, simulatorPid: fullSim.process.pid, postgres: await postgresPids(infra, db) },
      options,
      'worker',
      () =>
        scrapeSums(`http://127.0.0.1:${started.metricsPort}/metrics`, [RECEIVED, DROPPED]).catch(() => ({})),
    );
    const { rate } = full;
    if (rssBytes(worker.pid) === undefined)
      throw new Error(`the worker exited during the run (log: ${worker.logFile})`);
    options.progress(
      `ingest/worker: ${formatRate(rate.rate)} over ${rate.windowSeconds.toFixed(1)} s; ${cpuNote('worker', full.cpu)}`,
    );
    return { ...full, idleRss, plan };
  } finally {
    await worker.stop();
    await idleSim.stop();
    await fullSim?.stop();
  }
}

type TelegrafResult =
  | ({ kind: 'measured'; fieldsPerRow: number; updatesPerSecond: number } & ConsumerRun)
  | { kind: 'skipped'; reason: string };

/** Telegraf reading one simulator into a fresh schema, with the worker's batch and buffer sizes. */
async function startTelegraf(
  infra: Infra,
  db: pg.Client,
  simPort: number,
  options: IngestOptions,
  name: string,
): Promise<BenchProcess> {
  await db.query(`DROP SCHEMA IF EXISTS ${TELEGRAF_SCHEMA} CASCADE`);
  await db.query(`CREATE SCHEMA ${TELEGRAF_SCHEMA}`);
  const configFile = join(options.logDir, `${name}.conf`);
  const url = new URL(infra.postgres.dsn);
  url.searchParams.set('sslmode', 'disable');
  writeFileSync(
    configFile,
    telegrafConfig({
      address: `127.0.0.1:${simPort}`,
      username: SIM_USERNAME,
      password: SIM_PASSWORD,
      path: COUNTERS,
      measurement: MEASUREMENT,
      databaseUrl: url.toString(),
      schema: TELEGRAF_SCHEMA,
      batchSize: WORKER_BATCH,
      bufferLimit: WORKER_BUFFER,
      flushIntervalMs: WORKER_FLUSH_MS,
    }),
    { mode: 0o600 },
  );
  return startProcess(binary('telegraf'), ['--config', configFile], {
    logFile: join(options.logDir, `${name}.log`),
  });
}

/** Telegraf's memory on the typical switch's 2,000 updates/s, for the devices-per-GiB comparison. */
async function benchTelegrafTypical(
  infra: Infra,
  db: pg.Client,
  options: IngestOptions,
): Promise<{ last: MemoryBreakdown; peakRss: number } | undefined> {
  if (!existsSync(binary('telegraf'))) return undefined;
  const sim = await startSimulatorProcess({
    interfaces: 400,
    rate: TYPICAL_RATE,
    batchSize: 200,
    logDir: options.logDir,
    name: 'gnmi-sim-telegraf-typical',
  });
  const telegraf = await startTelegraf(infra, db, sim.port, options, 'telegraf-typical');
  try {
    const table = `${TELEGRAF_SCHEMA}.${MEASUREMENT}`;
    await waitFor("Telegraf's first rows", async () => (await countRows(db, table)) > 0, 90_000, 500);
    await sleep(5000);
    return await memoryOver(telegraf.pid, 20_000);
  } finally {
    await telegraf.stop();
    await sim.stop();
  }
}

async function benchTelegraf(infra: Infra, db: pg.Client, options: IngestOptions): Promise<TelegrafResult> {
  const telegrafBin = binary('telegraf');
  if (!existsSync(telegrafBin)) {
    const reason = 'Telegraf not built: run `bash e2e/infra/build-binaries.sh telegraf`';
    options.progress(`ingest/telegraf: skipped: ${reason}`);
    return { kind: 'skipped', reason };
  }
  const sim = await startSimulatorProcess({
    interfaces: options.interfaces,
    rate: options.offeredRate,
    batchSize: options.batchSize,
    logDir: options.logDir,
    name: 'gnmi-sim-telegraf',
  });
  const telegraf = await startTelegraf(infra, db, sim.port, options, 'telegraf');
  const table = `${TELEGRAF_SCHEMA}.${MEASUREMENT}`;
  try {
    options.progress(
      `ingest/telegraf: started pid ${telegraf.pid} against a simulator offering ${formatRate(options.offeredRate)}`,
    );
    const run = await measureConsumer(
      db,
      table,
      { pid: telegraf.pid, simulatorPid: sim.process.pid, postgres: await postgresPids(infra, db) },
      options,
      'telegraf',
    ).catch((e: Error) => {
      throw new Error(`${e.message} (telegraf log: ${telegraf.logFile})`);
    });
    const { rate } = run;
    const fieldsPerRow = await meanFieldsPerRow(db, TELEGRAF_SCHEMA, MEASUREMENT);
    const updatesPerSecond = rate.rate * fieldsPerRow;
    options.progress(
      `ingest/telegraf: ${formatRate(rate.rate, 'rows/s')} × ${fieldsPerRow.toFixed(2)} fields = ${formatRate(updatesPerSecond)}; ${cpuNote('telegraf', run.cpu)}`,
    );
    return { kind: 'measured', ...run, fieldsPerRow, updatesPerSecond };
  } finally {
    await telegraf.stop();
    await sim.stop();
  }
}

/**
 * Telegraf writes one row per (measurement, tags, timestamp) with a column per field, so one row
 * holds several gNMI updates: the mean number of non-null field columns converts rows to updates.
 */
async function meanFieldsPerRow(db: pg.Client, schema: string, table: string): Promise<number> {
  // Telegraf marks its tag columns with the comment 'tag'; the rest but `time` are fields.
  const cols = await db.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'time'
        AND coalesce(col_description(a.attrelid, a.attnum), '') <> 'tag'`,
    [`${schema}.${table}`],
  );
  if (cols.rows.length === 0) throw new Error(`Telegraf's table ${schema}.${table} has no field columns`);
  const list = cols.rows.map((c) => pg.escapeIdentifier(c.name)).join(', ');
  const r = await db.query<{ mean: string | null }>(
    `SELECT avg(num_nonnulls(${list}))::float8 AS mean FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`,
  );
  return Number(r.rows[0]?.mean ?? 0);
}

/**
 * PostgreSQL's backends and background processes (the children of its postmaster), less the
 * backend serving this benchmark's own counting, which is not part of the ingest.
 */
async function postgresPids(infra: Infra, db: pg.Client): Promise<() => number[]> {
  const postmaster = Number(
    readFileSync(join(infra.postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  const own = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  return () => [postmaster, ...childPids(postmaster).filter((p) => p !== own)];
}

export interface CpuShares {
  consumer: number;
  simulator: number;
  postgres: number;
}

/**
 * CPU time per update: on a machine shared with other work the rate follows the CPU share a
 * process gets (a multi-threaded one gets more), the cost per update does not.
 */
function perUpdate(run: ConsumerRun, updatesPerSecond: number): string {
  const us = (cores: number) => ((cores / updatesPerSecond) * 1e6).toFixed(1);
  return `${us(run.cpu.consumer)} + ${us(run.cpu.postgres)} µs`;
}

function cpuNote(who: string, cpu: CpuShares): string {
  return `${who} ${cpu.consumer.toFixed(2)}, simulator ${cpu.simulator.toFixed(2)}, PostgreSQL ${cpu.postgres.toFixed(2)} cores (of ${cpus().length})`;
}
