/**
 * Device telemetry as metrics, on the real parts: a DeviceProfile turns on both outputs for the
 * Device that names it; the operator's worker pod (run by the pod runner) collects from the gNMI
 * simulator into PostgreSQL and, at once, serves a Prometheus endpoint that a real Prometheus
 * (Debian's) scrapes and pushes OTLP/HTTP to a real OpenTelemetry Collector (built from its Go
 * modules). Once the simulator stops sending, the interface counter it sent last is the value in
 * all three.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import type { GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import { gnmiProfile, namespaceTools } from '../harness/manifests.js';
import { startOtelCollector, type OtelCollector } from '../harness/otel-collector.js';
import {
  installCrds,
  labSwitchSecrets,
  startDevicePlatform,
  startLabSwitch,
} from '../harness/platform-under-test.js';
import { startPrometheus, type Prometheus } from '../chart/prometheus.js';

const ns = `outputs-${randomBytes(3).toString('hex')}`;
const device = `${ns}/leaf1`;
let infra: Infra;
let pki: TestPki;
let sim: GnmiSimulator;
let collector: OtelCollector;
let prometheus: Prometheus | undefined;
let db: pg.Client;
let platform: Awaited<ReturnType<typeof startDevicePlatform>>;

const { kubectl, apply, jsonpath } = namespaceTools(() => infra, ns);

const IN_OCTETS = 'interfaces_interface_state_counters_in_octets';
const OPER_STATUS = 'interfaces_interface_state_oper_status_info';

const profile = (outputs: object) =>
  gnmiProfile(
    { name: 'lab-gnmi' },
    {
      subscriptions: [{ path: '/interfaces/interface[name=*]/state', mode: 'sample', sampleInterval: '1s' }],
      outputs,
    },
  );

const promValue = async (expr: string) => {
  const r = await prometheus!.query(expr);
  return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
};
const otlpLatest = (metric: string, iface: string) =>
  collector
    .points()
    .filter((p) => p.metric === metric && p.attributes.name === iface && p.attributes.device === device)
    .at(-1);
const pgLatest = async (iface: string) => {
  const r = await db.query<{ value: number }>(
    `SELECT value FROM metrics WHERE device = $1 AND path = '/interfaces/interface/state/counters/in-octets'
       AND labels->>'name' = $2 ORDER BY ts DESC LIMIT 1`,
    [device, iface],
  );
  return r.rows[0]?.value;
};

before(async () => {
  infra = await useInfra({ kubernetes: true, postgres: true });
  await installCrds(infra);
  assert.equal((await kubectl('create', 'namespace', ns)).code, 0);
  pki = generateTestPki();
  sim = await startLabSwitch(pki, { interfaces: 2 });
  collector = await startOtelCollector();
  await apply(...labSwitchSecrets(pki));
  platform = await startDevicePlatform(infra, ns);
  const schema = ns.replace(/-/g, '_');
  db = new pg.Client({ connectionString: infra.postgres.dsn, options: `-c search_path=${schema}` });
  await db.connect();
});

after(async () => {
  await prometheus?.stop();
  await platform?.stop();
  await collector?.stop();
  await sim?.stop();
  pki?.remove();
  await db?.end();
  await kubectl('delete', 'namespace', ns, '--wait=false');
  await infra?.stop();
});

describe('a Device whose profile turns on the Prometheus and OTLP outputs', () => {
  test('gets a device-metrics port on its worker pod, and its counters reach Prometheus, the collector and PostgreSQL alike', async () => {
    await apply(
      profile({
        stringsAsLabels: true,
        prometheus: {},
        otlp: { endpoint: collector.endpoint, intervalSeconds: 1 },
      }),
      {
        apiVersion: 'switchforge.io/v1alpha1',
        kind: 'Device',
        metadata: { name: 'leaf1' },
        spec: { address: '127.0.0.1', port: sim.port, profileRef: { name: 'lab-gnmi' } },
      },
    );
    await waitFor(
      'the worker pod with its IP',
      async () => (await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[0].status.podIP}')) !== '',
      60_000,
      500,
    );
    const pod = 'pods -l switchforge.io/device=leaf1';
    const podIp = await jsonpath(pod, '{.items[0].status.podIP}');
    assert.equal(
      await jsonpath(pod, '{.items[0].spec.containers[0].ports[?(@.name=="device-metrics")].containerPort}'),
      '9804',
    );
    assert.equal(
      await jsonpath(pod, "{.items[0].metadata.annotations['switchforge\\.io/device-metrics-port']}"),
      '9804',
    );
    prometheus = await startPrometheus([{ job: 'switchforge-device-telemetry', targets: [`${podIp}:9804`] }]);

    const selector = `{device="${device}",name="Ethernet0"}`;
    await waitFor(
      'the counter in PostgreSQL',
      async () => (await pgLatest('Ethernet0')) !== undefined,
      90_000,
      500,
    );
    await waitFor(
      'the counter scraped by Prometheus',
      async () => (await promValue(`${IN_OCTETS}${selector}`)) !== undefined,
      60_000,
      500,
    );
    await waitFor(
      'the counter at the collector',
      async () => otlpLatest(IN_OCTETS, 'Ethernet0') !== undefined,
      60_000,
      500,
    );

    // The simulator stops sending; what it sent last is what every store must hold.
    await sim.setMisbehaviour({ stall: true });
    await new Promise((r) => setTimeout(r, 1500));
    const sent = sim.value('leaf1', '/interfaces/interface[name=Ethernet0]/state/counters/in-octets');
    assert.equal(typeof sent, 'number');
    const seen = {
      pg: 0 as number | undefined,
      prometheus: 0 as number | undefined,
      otlp: 0 as number | undefined,
    };
    try {
      await waitFor(
        'the last value sent in PostgreSQL, Prometheus and the collector',
        async () => {
          seen.pg = await pgLatest('Ethernet0');
          seen.prometheus = await promValue(`${IN_OCTETS}${selector}`);
          seen.otlp = otlpLatest(IN_OCTETS, 'Ethernet0')?.value;
          return seen.pg === sent && seen.prometheus === sent && seen.otlp === sent;
        },
        30_000,
        500,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}: sent ${String(sent)}, saw ${JSON.stringify(seen)}`);
    }

    // Counters are told from gauges: a monotonic Sum over OTLP, `counter` in Prometheus's metadata.
    const point = otlpLatest(IN_OCTETS, 'Ethernet0')!;
    assert.equal(point.type, 'sum');
    assert.equal(point.monotonic, true);
    assert.equal(point.resource['service.name'], 'switchforge-device');
    assert.equal(point.attributes.site, 'lab', "the profile's labels are attributes too");
    const metadata = (await (
      await fetch(`${prometheus.url}/api/v1/metadata?metric=${IN_OCTETS}`)
    ).json()) as {
      data: Record<string, { type: string }[]>;
    };
    assert.equal(metadata.data[IN_OCTETS]?.[0]?.type, 'counter');
    // Strings (stringsAsLabels): an info series of 1 holding the string.
    assert.equal(await promValue(`${OPER_STATUS}{device="${device}",name="Ethernet0",value="UP"}`), 1);
    const status = otlpLatest(OPER_STATUS, 'Ethernet0');
    assert.equal(status?.type, 'gauge');
    assert.equal(status?.attributes.value, 'UP');
    await sim.setMisbehaviour({ stall: false });
  });

  test('an OTLP output the profile drops stops exporting, without a new pod', async () => {
    const podBefore = await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[0].metadata.name}');
    await apply(profile({ prometheus: {} }));
    // The worker sees the merged spec once the operator has written it: give it a few exports' time.
    await new Promise((r) => setTimeout(r, 5000));
    const count = collector.points().length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(collector.points().length, count, 'no export after the OTLP output is gone');
    assert.equal(
      await jsonpath('pods -l switchforge.io/device=leaf1', '{.items[0].metadata.name}'),
      podBefore,
    );
    await waitFor(
      'Prometheus still scraping',
      async () => (await promValue(`${IN_OCTETS}{device="${device}",name="Ethernet1"}`)) !== undefined,
      10_000,
      500,
    );
  });
});
