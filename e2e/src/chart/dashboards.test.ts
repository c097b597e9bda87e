/**
 * Every panel of every dashboard the chart ships shows data from the real system: a real
 * Prometheus (Debian's) scrapes the real operator and a real device worker collecting from the gNMI
 * simulator into PostgreSQL; each PromQL panel query (macros and variables expanded as Grafana
 * does) must return series, and each SQL panel query must return rows from what the worker wrote.
 *
 * Audio metrics come from the audio worker's own metric functions (worker/src/audio/metrics.ts)
 * called in this process: a real audio pipeline needs Temporal, Demucs and minutes.
 * Panels whose metrics the code does not define yet are listed in PENDING and reported as todo.
 */
import { caSecret, loginSecret } from '../harness/manifests.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { migrate } from '@switchforge/platform/db';
import { startTelemetry, type Telemetry } from '@switchforge/platform/telemetry';
import { repoRoot } from '../infra/paths.js';
import { freePort, useInfra, waitFor, type Infra } from '../infra/suite.js';
import { generateTestPki, type TestPki } from '../simulators/certs.js';
import { startGnmiSimulator, type GnmiSimulator } from '../simulators/gnmi/server.js';
import type { OperatorHandle, PodRunnerHandle } from '../harness/platform-under-test.js';
import { expandPromQL, expandSql, loadDashboards, metricNames, panelQueries } from './dashboards.js';
import { startPrometheus, type Prometheus } from './prometheus.js';

/**
 * Metrics that dashboards query but no code defines yet, and why: the panels that read them are
 * todo until the instrument exists (then remove the entry; a test below insists).
 */
const PENDING: Record<string, string> = {};
/** Defined in code, but the process that records them is not started by this test (yet). */
const API_NOT_RUN =
  'recorded by the API process, which this scenario does not start yet (e2e/src/api/fixture.ts could)';
const NOT_RUN_HERE: Record<string, string> = Object.fromEntries(
  [
    'switchforge_api_operations',
    'switchforge_api_operations_errors',
    'switchforge_api_operation_duration',
    'switchforge_api_requests_rate_limited',
    'switchforge_api_live_subscriptions',
    'switchforge_api_live_upstreams',
    'switchforge_api_live_messages_delivered',
    'switchforge_api_live_messages_dropped',
    'switchforge_api_live_upstream_reconnects',
    'switchforge_api_live_upstream_malformed',
    'switchforge_api_auth_reviews',
  ].map((n) => [n, API_NOT_RUN]),
);
NOT_RUN_HERE.switchforge_operator_audio_jobs =
  "recorded by the operator's AudioJob controller, which needs Temporal and is not started by this scenario";
const skipReason = (names: string[]) =>
  names.map((n) => PENDING[n.replace(/_total$/, '')] ?? NOT_RUN_HERE[n.replace(/_total$/, '')]).find(Boolean);

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
const RATE_INTERVAL = '20s';
let workerMetricsUrl = '';

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
  const { installCrds, startOperator, startPodRunner } = await import('../harness/platform-under-test.js');
  const audio = await import('../../../worker/src/audio/metrics.js');

  infra = await useInfra({ kubernetes: true, postgres: true });
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
  operator = await startOperator(infra, { namespace: ns, databaseUrl });
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

  prometheus = await startPrometheus([
    { job: 'switchforge-operator', targets: [`127.0.0.1:${telemetry.prometheusPort}`] },
    { job: 'switchforge-device-worker', targets: [`${podIp}:9464`] },
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

  // Malformed replies and a dropped stream, so those panels show events, not just zeros.
  await sim.setMisbehaviour({ malformed: true });
  await sleep(2000);
  await sim.setMisbehaviour({ malformed: false, dropStream: true });
  await sleep(1500);
  await sim.setMisbehaviour({ dropStream: false });

  const p = prometheus;
  await waitFor(
    'both targets up',
    async () => (await p.targets()).every((t) => t.health === 'up'),
    30_000,
    500,
  );
  // Soft waits: a worker that exports nothing fails the panels (and the test below) one by one.
  workerMetricsUrl = `http://${podIp}:9464/metrics`;
  for (const counter of [
    'switchforge_worker_updates_malformed_total',
    'switchforge_worker_session_reconnects_total',
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
  await prometheus?.stop();
  await pods?.stop();
  await operator?.stop();
  await sim?.stop();
  pki?.remove();
  await db?.end();
  await infra?.kubernetes.kubectl(['delete', 'namespace', ns, '--wait=false']);
  await infra?.stop();
  await telemetry?.shutdown();
});

const queries = panelQueries();

describe('the dashboards', () => {
  test('read a device worker that exports its instruments, not only target_info', async () => {
    const exposed = (await (await fetch(workerMetricsUrl)).text())
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split(/[{ ]/)[0]);
    assert.ok(
      exposed.some((n) => n?.startsWith('switchforge_worker_')),
      `the worker at ${workerMetricsUrl} exports only ${[...new Set(exposed)].join(', ')}: its instruments were created before ` +
        'startTelemetry() set the global MeterProvider (static imports run first), so they are no-ops',
    );
  });

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
        const known = prom.has(name) || PENDING[name.replace(/_total$/, '')] !== undefined;
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
