/**
 * Every panel of every dashboard the chart ships shows data from the real system: a real
 * Prometheus (Debian's) scrapes the real operator (with its AudioJob controller on Temporal), a
 * real device worker collecting from the gNMI simulator into PostgreSQL, and the real API process
 * serving GraphQL queries and a graphql-ws subscription fed live by that worker; each PromQL panel
 * query (macros and variables expanded as Grafana does) must return series, and each SQL panel
 * query must return rows from what the worker wrote.
 *
 * Audio worker metrics come from its own metric functions (worker/src/audio/metrics.ts) called in
 * this process: a real audio pipeline needs Demucs and minutes. The one AudioJob applied here
 * never runs (no audio worker polls its queue); the operator counts it by phase all the same.
 * Panels whose metrics the code does not define yet are listed in PENDING and reported as todo.
 */
import { caSecret, loginSecret } from '../harness/manifests.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  METRIC_DB_CLIENT_OPERATION_DURATION,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from '@opentelemetry/semantic-conventions';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { migrate } from '@switchforge/platform/db';
import { startTelemetry, type Telemetry } from '@switchforge/platform/telemetry';
import { repoRoot } from '@switchforge/testkit/paths';
import { freePort, useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import { startGnmiSimulator, type GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import type { OperatorHandle, PodRunnerHandle } from '../harness/platform-under-test.js';
import { workflowIdForJob } from '@switchforge/platform/audio/workflow-id';
import { startApiProcess, type ApiProcess } from './api-process.js';
import { expandPromQL, expandSql, loadDashboards, metricNames, panelQueries } from './dashboards.js';
import { startPrometheus, type Prometheus } from './prometheus.js';

/**
 * Metrics that dashboards query but no code defines yet, and why: the panels that read them are
 * todo until the instrument exists (then remove the entry; a test below insists).
 */
const PENDING: Record<string, string> = {};
const skipReason = (names: string[]) => names.map((n) => PENDING[n.replace(/_total$/, '')]).find(Boolean);

/** Prometheus names of the instruments the code creates, as the OTel Prometheus exporter names them. */
function instrumentsInCode(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const p = join(dir, entry);
      if (entry === 'node_modules') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
        const source = readFileSync(p, 'utf8');
        for (const m of source.matchAll(
          /create(Counter|ObservableCounter|UpDownCounter|ObservableUpDownCounter|Histogram|Gauge|ObservableGauge)\(\s*'([^']+)'/g,
        )) {
          const base = m[2]!.replace(/[^a-zA-Z0-9_]/g, '_');
          found.set(base, /^(Observable)?Counter$/.test(m[1]!) ? `${base}_total` : base);
        }
      }
    }
  };
  for (const folder of ['platform/src', 'operator/src', 'worker/src', 'api/src'])
    walk(join(repoRoot, folder));
  // The maintained instrumentations the components load define theirs in their semconv module.
  const runtime = readFileSync(
    join(repoRoot, 'node_modules/@opentelemetry/instrumentation-runtime-node/build/src/semconv.js'),
    'utf8',
  );
  const pgPool = readFileSync(
    join(repoRoot, 'node_modules/@opentelemetry/instrumentation-pg/build/src/semconv.js'),
    'utf8',
  );
  for (const m of [
    ...runtime.matchAll(/exports\.METRIC_\w+ = '([^']+)'/g),
    ...pgPool.matchAll(/exports\.METRIC_\w+ = '([^']+)'/g),
  ]) {
    const base = m[1]!.replace(/[^a-zA-Z0-9_]/g, '_');
    found.set(base, m[1] === 'nodejs.eventloop.time' ? `${base}_total` : base);
  }
  // SDK Core's own, forwarded by name (worker/src/audio/temporal-metrics.ts); Core's names.
  for (const name of [
    'temporal_workflow_task_schedule_to_start_latency',
    'temporal_activity_schedule_to_start_latency',
    'temporal_activity_execution_latency',
    'temporal_worker_task_slots_available',
  ])
    found.set(name, name);
  // The stable semantic-convention histograms the http and pg instrumentations record.
  for (const name of [METRIC_HTTP_SERVER_REQUEST_DURATION, METRIC_DB_CLIENT_OPERATION_DURATION])
    found.set(name.replace(/[^a-zA-Z0-9_]/g, '_'), name.replace(/[^a-zA-Z0-9_]/g, '_'));
  return found;
}

const ns = `dash-${randomBytes(3).toString('hex')}`;
const schema = ns.replace(/-/g, '_');
const deviceName = `${ns}/leaf1`;
let telemetry: Telemetry;
let infra: Infra;
let db: pg.Client;
let pki: TestPki;
let sim: GnmiSimulator;
let operator: OperatorHandle | undefined;
let pods: PodRunnerHandle | undefined;
let prometheus: Prometheus | undefined;
let stopBacklog: (() => void) | undefined;
let temporalMetrics: { stop(): void } | undefined;
let api: ApiProcess | undefined;
let apiStarting: Promise<unknown> | undefined;
let ws: WsClient | undefined;
let storageRoot: string | undefined;
let audioJobUid = '';
const RATE_INTERVAL = '20s';
let workerMetricsUrl = '';
/** The viewer's burst (SWITCHFORGE_API_RATE_BURST): the traffic below exceeds it once, on purpose. */
const API_BURST = 20;

const subscriptions = [
  '/interfaces/interface/state',
  '/components/component',
  '/system/memory/state',
  '/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state',
].map((path) => ({ path, mode: 'sample', sampleInterval: '1s' }));

before(async () => {
  // The SDK first: modules create their instruments on import, from the global meter provider.
  // A port of our own: the exporter reads port 0 as "the default, 9464", which others may hold.
  telemetry = await startTelemetry({
    serviceName: 'switchforge-operator',
    prometheusPort: await freePort(),
    prometheusHost: '127.0.0.1',
  });
  // SDK Core's metrics, before any native Temporal connection in this process (Runtime.install).
  const { installTemporalMetrics } = await import('@switchforge/worker/audio/temporal-metrics');
  temporalMetrics = installTemporalMetrics(200);
  const { installCrds, startOperator, startPodRunner } = await import('../harness/platform-under-test.js');
  const audio = await import('@switchforge/worker/audio/metrics');

  infra = await useInfra({ kubernetes: true, postgres: true, temporal: true });
  await installCrds(infra);
  const kubectl = (args: string[], input?: string) => infra.kubernetes.kubectl(args, input);
  assert.equal((await kubectl(['create', 'namespace', ns])).code, 0);
  await migrate({ url: infra.postgres.dsn, schema });
  db = new pg.Client({ connectionString: infra.postgres.dsn, options: `-c search_path=${schema}` });
  await db.connect();
  pki = generateTestPki();
  sim = await startGnmiSimulator({
    deviceNames: ['leaf1'],
    interfaces: 2,
    tls: { cert: pki.server.cert, key: pki.server.key },
    credentials: { username: 'telemetry', password: 's3cret' },
    changeIntervalMs: 500,
  });
  const databaseUrl = `${infra.postgres.dsn}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  storageRoot = mkdtempSync(join(tmpdir(), 'switchforge-dash-audio-'));
  // An uploaded input in the namespace's area: the janitor's first sweep (at operator start)
  // measures it for the storage panel.
  mkdirSync(join(storageRoot, 'namespaces', ns, 'inputs'), { recursive: true });
  writeFileSync(join(storageRoot, 'namespaces', ns, 'inputs', 'track.wav'), Buffer.alloc(4096));
  // With TEMPORAL_ADDRESS the operator runs its AudioJob controller too (the pool stays off: no
  // audio worker pods here, the audio worker's metrics are recorded in this process below).
  operator = await startOperator(infra, {
    namespace: ns,
    databaseUrl,
    env: {
      TEMPORAL_ADDRESS: infra.temporal.address,
      TEMPORAL_NAMESPACE: infra.temporal.namespace,
      AUDIO_QUEUE_PREFIX: `${ns}-`,
      AUDIO_STORAGE_ROOT: storageRoot,
      AUDIO_WATCH_NAMESPACE: ns,
      AUDIO_POOL_ENABLED: 'false',
    },
  });
  // The API in a process of its own, so Prometheus scrapes it as a target of its own.
  const starting = startApiProcess({
    kubeconfig: infra.kubernetes.kubeconfig,
    databaseUrl: infra.postgres.dsn,
    schema,
    env: { SWITCHFORGE_API_RATE_PER_SECOND: '1', SWITCHFORGE_API_RATE_BURST: String(API_BURST) },
  });
  // Starts while the worker pod comes up; after() stops it even if this hook fails first.
  apiStarting = starting.then(
    (a) => (api = a),
    () => undefined,
  );
  pods = await startPodRunner(infra, ns);
  const apply = async (doc: object) => {
    const r = await kubectl(['apply', '-n', ns, '-f', '-'], JSON.stringify(doc));
    assert.equal(r.code, 0, r.stderr);
  };
  await apply(loginSecret({ name: 'leaf1-login' }, 'telemetry', 's3cret'));
  await apply(caSecret({ name: 'lab-ca' }, pki.ca.cert));
  await apply({
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'Device',
    metadata: { name: 'leaf1', namespace: ns },
    spec: {
      address: '127.0.0.1',
      port: sim.port,
      protocol: 'gnmi',
      credentials: { secretRef: { name: 'leaf1-login' } },
      tls: { caSecretRef: { name: 'lab-ca' }, serverName: 'localhost' },
      encoding: 'json_ietf',
      subscriptions,
    },
  });
  // A GraphQL client with a ServiceAccount of its own, allowed to read and watch Devices here.
  await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'dashboard-viewer' } });
  await apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'dashboard-viewer' },
    rules: [{ apiGroups: ['switchforge.io'], resources: ['devices'], verbs: ['get', 'list', 'watch'] }],
  });
  await apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'dashboard-viewer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'dashboard-viewer' },
    subjects: [{ kind: 'ServiceAccount', name: 'dashboard-viewer', namespace: ns }],
  });
  const tokenResult = await kubectl(['create', 'token', 'dashboard-viewer', '-n', ns, '--duration=1h']);
  assert.equal(tokenResult.code, 0, tokenResult.stderr);
  const token = tokenResult.stdout.trim();
  // One AudioJob: its workflow starts, and waits for an audio worker that never comes.
  await apply({
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'AudioJob',
    metadata: { name: 'tone' },
    spec: { source: { storagePath: 'in/tone.wav' }, stages: { analyze: {} } },
  });
  audioJobUid = (await kubectl(['get', 'audiojob', 'tone', '-n', ns, '-o', 'jsonpath={.metadata.uid}']))
    .stdout;
  let podIp = '';
  await waitFor(
    'the worker pod to have an IP and a process',
    async () => {
      const r = await kubectl([
        'get',
        'pods',
        '-n',
        ns,
        '-l',
        'switchforge.io/device=leaf1',
        '-o',
        'jsonpath={.items[0].status.podIP}',
      ]);
      podIp = r.stdout.trim();
      return podIp !== '' && pods!.runner.pods.length === 1;
    },
    90_000,
    500,
  );

  api = await starting;
  prometheus = await startPrometheus([
    { job: 'switchforge-operator', targets: [`127.0.0.1:${telemetry.prometheusPort}`] },
    { job: 'switchforge-device-worker', targets: [`${podIp}:9464`] },
    { job: 'switchforge-api', targets: [api.metricsTarget] },
  ]);
  await waitFor(
    'rows of every subscription in PostgreSQL',
    async () => {
      const r = await db.query<{ n: string }>(
        `SELECT count(DISTINCT split_part(path, '/', 2)) AS n FROM metrics WHERE device = $1`,
        [deviceName],
      );
      return Number(r.rows[0]!.n) === subscriptions.length;
    },
    90_000,
    500,
  );

  // The audio worker's instruments, recorded as its activities and workflow do.
  audio.recordStage('download', 1.5, 'ok');
  audio.recordStage('separate', 42, 'failed');
  audio.recordStageFailure('separate', 'OutOfMemory');
  audio.recordJobDuration(60, 'failed');
  stopBacklog = audio.observeQueueBacklog(async () => new Map([['switchforge-audio-separate', 3]]));
  await runPingWorkflow();

  // Malformed replies and a dropped stream, so those panels show events, not just zeros.
  await sim.setMisbehaviour({ malformed: true });
  await sleep(2000);
  await sim.setMisbehaviour({ malformed: false, dropStream: true });
  await sleep(1500);
  await sim.setMisbehaviour({ dropStream: false });

  await driveApiTraffic(api.url, token);

  const p = prometheus;
  await waitFor(
    'every target up',
    async () => (await p.targets()).every((t) => t.health === 'up'),
    30_000,
    500,
  );
  // Soft waits: a worker that exports nothing fails the panels (and the test below) one by one.
  workerMetricsUrl = `http://${podIp}:9464/metrics`;
  for (const counter of [
    'switchforge_worker_updates_malformed_total',
    'switchforge_worker_session_reconnects_total',
    'switchforge_api_live_messages_delivered_total',
    'switchforge_api_requests_rate_limited_total',
    'switchforge_operator_audio_jobs',
  ]) {
    await waitFor(`${counter} scraped`, async () => (await p.query(counter)).length > 0, 30_000, 1000).catch(
      () => undefined,
    );
  }
  // rate() over the panels' window needs that window's worth of scrapes.
  await sleep(Number.parseInt(RATE_INTERVAL, 10) * 1000);
});

after(async () => {
  stopBacklog?.();
  temporalMetrics?.stop();
  await ws?.dispose();
  await apiStarting;
  await api?.stop();
  await prometheus?.stop();
  await pods?.stop();
  await operator?.stop();
  // The job's finalizer has no controller now, and its workflow no worker: let both go.
  await infra?.kubernetes.kubectl([
    'patch',
    'audiojob/tone',
    '-n',
    ns,
    '--type',
    'merge',
    '-p',
    '{"metadata":{"finalizers":null}}',
  ]);
  if (audioJobUid) await terminateWorkflow(workflowIdForJob(audioJobUid)).catch(() => undefined);
  if (storageRoot) rmSync(storageRoot, { recursive: true, force: true });
  await sim?.stop();
  pki?.remove();
  await db?.end();
  await infra?.kubernetes.kubectl(['delete', 'namespace', ns, '--wait=false']);
  await infra?.stop();
  await telemetry?.shutdown();
});

/**
 * One workflow scheduling one activity, on a Temporal worker in this process: SDK Core then
 * reports the task latencies the audio dashboard shows (schedule-to-start, execution), as an
 * audio worker's would.
 */
async function runPingWorkflow(): Promise<void> {
  const { NativeConnection, Worker } = await import('@temporalio/worker');
  const native = await NativeConnection.connect({ address: infra.temporal.address });
  const taskQueue = `${ns}-ping`;
  const worker = await Worker.create({
    connection: native,
    namespace: infra.temporal.namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./test-support/ping-workflow.ts', import.meta.url)),
    activities: { ping: async () => 'pong' },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: infra.temporal.address });
  try {
    const client = new TemporalClient({ connection, namespace: infra.temporal.namespace });
    assert.equal(
      await client.workflow.execute('pingWorkflow', { taskQueue, workflowId: `${ns}-ping` }),
      'pong',
    );
  } finally {
    worker.shutdown();
    await running;
    await Promise.all([connection.close(), native.close()]);
  }
}

/** Ends a workflow that no worker will ever run (the shared Temporal outlives this suite). */
async function terminateWorkflow(workflowId: string): Promise<void> {
  const connection = await Connection.connect({ address: infra.temporal.address });
  try {
    const client = new TemporalClient({ connection, namespace: infra.temporal.namespace });
    await client.workflow.getHandle(workflowId).terminate('the dashboards test is over');
  } finally {
    await connection.close();
  }
}

interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * What the API panels show, as clients cause it: queries (one refused), a live subscription that
 * stays open and receives the worker's updates, then more operations than the viewer's burst.
 */
async function driveApiTraffic(url: string, token: string): Promise<void> {
  const query = async (text: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: text, variables }),
    });
    return (await res.json()) as GraphQLResponse;
  };
  const devices = await query(
    'query($ns: String!) { devices(namespace: $ns) { totalCount nodes { name } } }',
    { ns },
  );
  assert.equal(devices.errors, undefined, JSON.stringify(devices));
  const leaf1 = await query(
    'query($ns: String!) { device(namespace: $ns, name: "leaf1") { name status { phase } latestValues(first: 5) { path value } } }',
    { ns },
  );
  assert.equal(leaf1.errors, undefined, JSON.stringify(leaf1));
  const refused = await query('{ device(namespace: "kube-system", name: "leaf1") { name } }');
  assert.equal(refused.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(refused));

  ws = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const received: GraphQLResponse[] = [];
  const failed = new Promise<never>((_, reject) => {
    ws!.subscribe(
      {
        query: `subscription($ns: String!) {
          deviceUpdates(namespace: $ns, name: "leaf1") { sequence values { path value } }
        }`,
        variables: { ns },
      },
      {
        next: (m) => void received.push(m as GraphQLResponse),
        error: (e) => reject(new Error(`the subscription failed: ${JSON.stringify(e)}`)),
        complete: () => reject(new Error('the subscription completed')),
      },
    );
  });
  failed.catch(() => undefined);
  await Promise.race([
    waitFor('three live updates from the worker', async () => received.length >= 3, 30_000, 200),
    failed,
  ]);
  assert.ok(
    received.every((m) => m.errors === undefined),
    JSON.stringify(received.find((m) => m.errors)),
  );

  // Past the burst: the rest are refused as rate limited (the subscription above stays open).
  const answers = await Promise.all(
    Array.from({ length: API_BURST + 5 }, () => query('{ devices { totalCount } }')),
  );
  assert.ok(
    answers.some((a) => a.errors?.[0]?.extensions?.code === 'RATE_LIMITED'),
    `no operation was rate limited: ${JSON.stringify(answers.at(-1))}`,
  );
}

const queries = panelQueries();

/** Metric names a /metrics endpoint exposes. */
async function exposedNames(url: string): Promise<string[]> {
  return (await (await fetch(url)).text())
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/[{ ]/)[0]!);
}

describe('the dashboards', () => {
  for (const [component, prefix, url] of [
    ['a device worker', 'switchforge_worker_', () => workerMetricsUrl],
    ['an API process', 'switchforge_api_', () => `http://${api!.metricsTarget}/metrics`],
  ] as const) {
    test(`read ${component} that exports its instruments, not only target_info`, async () => {
      const exposed = await exposedNames(url());
      assert.ok(
        exposed.some((n) => n.startsWith(prefix)),
        `${component} at ${url()} exports only ${[...new Set(exposed)].join(', ')}: its instruments were created before ` +
          'startTelemetry() set the global MeterProvider (static imports run first), so they are no-ops',
      );
    });
  }

  test('are four, with unique uids, each panel with a query', () => {
    const ds = loadDashboards();
    assert.deepEqual(
      ds.map((d) => d.file),
      ['api.json', 'audio-pipelines.json', 'collector-health.json', 'switch-overview.json'],
    );
    assert.equal(new Set(ds.map((d) => d.dashboard.uid)).size, ds.length);
    for (const q of queries.filter((x) => x.kind === 'prometheus'))
      assert.ok(metricNames(q.text).length > 0, `${q.panel}: reads no metric`);
  });

  test('query only metrics that the code defines, or that are listed as pending', () => {
    const code = instrumentsInCode();
    const prom = new Set(code.values());
    for (const q of queries.filter((x) => x.kind === 'prometheus')) {
      for (const name of metricNames(q.text)) {
        // metricNames drops a histogram's _count, and with it that of a gauge named *_count.
        const known =
          prom.has(name) || prom.has(`${name}_count`) || PENDING[name.replace(/_total$/, '')] !== undefined;
        assert.ok(
          known,
          `${q.dashboard} / ${q.panel}: ${name} is no instrument in the code (OTel names map to Prometheus as a.b.c -> a_b_c, counters + _total)`,
        );
      }
    }
  });

  test('list as pending only metrics the code does not define yet', () => {
    const code = instrumentsInCode();
    for (const name of Object.keys(PENDING)) {
      assert.ok(
        !code.has(name),
        `${name} is now defined in the code: remove it from PENDING so its panels are checked`,
      );
    }
  });
});

describe('every Prometheus panel query returns data from the running system', () => {
  for (const q of queries.filter((x) => x.kind === 'prometheus')) {
    const reason = skipReason(metricNames(q.text));
    test(`${q.dashboard} / ${q.panel} (${q.refId})`, { todo: reason }, async () => {
      const expr = expandPromQL(q.text, RATE_INTERVAL);
      const result = await prometheus!.query(expr);
      assert.ok(result.length > 0, `no data for ${expr}`);
    });
  }
});

describe('every template variable resolves', () => {
  for (const { dashboard } of loadDashboards()) {
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const promQuery =
        typeof v.query === 'object' && v.query !== null ? (v.query as { query: string }).query : undefined;
      const match = promQuery ? /^label_values\((\w+),\s*(\w+)\)$/.exec(promQuery) : null;
      const reason = match ? skipReason([match[1]!.replace(/_(bucket|sum|count)$/, '')]) : undefined;
      test(`${dashboard.title}: $${v.name}`, { todo: reason }, async () => {
        if (match) {
          const values = await prometheus!.labelValues(match[2]!, match[1]!);
          assert.ok(values.length > 0, `label_values(${match[1]}, ${match[2]}) is empty`);
        } else {
          const r = await db.query<{ device: string }>(String(v.query));
          assert.ok(
            r.rows.some((row) => Object.values(row).includes(deviceName)),
            `${String(v.query)} lists no ${deviceName}`,
          );
        }
      });
    }
  }
});

describe('every PostgreSQL panel query returns rows of what the worker wrote', () => {
  for (const q of queries.filter((x) => x.kind === 'postgres')) {
    test(`${q.dashboard} / ${q.panel} (${q.refId})`, async () => {
      const sql = expandSql(q.text, [deviceName]);
      const r = await db.query(sql);
      assert.ok(r.rows.length > 0, `no rows for\n${sql}`);
      if (r.fields.some((f) => f.name === 'value')) {
        const values = r.rows.map((row) => Number((row as { value: unknown }).value));
        assert.ok(
          values.every((v) => Number.isFinite(v) && v >= 0),
          'finite, non-negative values',
        );
      }
    });
  }
});
