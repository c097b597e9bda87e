/**
 * A DeviceProfile edit rolls out to its Devices a few at a time: each Device's worker applies it
 * in place (the unchanged subscription keeps streaming, no pod restarts), no more Devices than
 * `spec.rollout.maxConcurrent` are between the two generations at once, and the profile's status
 * counts the updated Devices until RolledOut is True. Real parts: kube-apiserver + kwok, the
 * operator, the pod runner starting one worker process per Device, the gNMI simulator,
 * PostgreSQL.
 */
import { gnmiProfile, namespaceTools } from '../harness/manifests.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { waitFor, type Infra } from '@switchforge/testkit';
import type { GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import { ANNOTATION, deviceLeaseName } from '@switchforge/platform/device-worker';
import { concurrencyLimit } from '@switchforge/operator/device/profile-rollout';
import { Watch } from '@kubernetes/client-node';
import { adminKubeConfig, startLabDeviceSuite, type LabDeviceSuite } from '../harness/platform-under-test.js';

const ns = `rollout-${randomBytes(3).toString('hex')}`;
// The README's figure is this test at SWITCHFORGE_ROLLOUT_DEVICES=50, SWITCHFORGE_ROLLOUT_MAX=10%.
const DEVICES = Array.from(
  { length: Number(process.env.SWITCHFORGE_ROLLOUT_DEVICES ?? 5) },
  (_, i) => `leaf${i + 1}`,
);
const MAX_CONCURRENT_SPEC: number | string = process.env.SWITCHFORGE_ROLLOUT_MAX ?? 2;
const MAX_CONCURRENT = concurrencyLimit(MAX_CONCURRENT_SPEC, DEVICES.length);
const COUNTERS = '/interfaces/interface[name=*]/state/counters';
const CPU = '/components/component[name=*]/cpu';
let lab: LabDeviceSuite;
let infra: Infra;
let sim: GnmiSimulator;
let db: pg.Client;

const { kubectl, apply, jsonpath } = namespaceTools(() => infra, ns);

const profile = (subscriptions: object[]) =>
  gnmiProfile({ name: 'fleet' }, { subscriptions, rollout: { maxConcurrent: MAX_CONCURRENT } });
const device = (name: string) => ({
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { name },
  spec: { address: '127.0.0.1', port: sim.port, profileRef: { name: 'fleet' } },
});

before(async () => {
  lab = await startLabDeviceSuite(ns);
  ({ infra, sim } = lab);
  db = new pg.Client({
    connectionString: infra.postgres.dsn,
    options: `-c search_path=${ns.replace(/-/g, '_')}`,
  });
  await db.connect();
});

after(async () => {
  await db?.end();
  await lab?.stop();
});

interface Recorded {
  rv: number;
  kind: 'device' | 'lease';
  name: string;
  generation: string;
}

/**
 * Watches the namespace's Devices (their merged generation) and Leases (the generation each
 * worker says it applied). Devices and Leases live in the same etcd, so resourceVersions order
 * the two streams into one history, as the operator's caches saw it.
 */
async function recordRollout(): Promise<{ events: Recorded[]; stop(): void }> {
  const watch = new Watch(adminKubeConfig(infra));
  const events: Recorded[] = [];
  type Obj = { metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> } };
  const record = (kind: Recorded['kind'], generation: (o: Obj) => string) => (phase: string, o: Obj) => {
    if (phase === 'DELETED') return;
    events.push({
      rv: Number(o.metadata.resourceVersion),
      kind,
      name: o.metadata.name,
      generation: generation(o),
    });
  };
  const requests = await Promise.all([
    watch.watch(
      `/apis/switchforge.io/v1alpha1/namespaces/${ns}/devices`,
      {},
      record('device', (o) =>
        String(
          (o as Obj & { status?: { profile?: { generation?: number } } }).status?.profile?.generation ?? '',
        ),
      ),
      () => {},
    ),
    watch.watch(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
      {},
      record('lease', (o) => o.metadata.annotations?.[ANNOTATION.appliedProfileGeneration] ?? ''),
      () => {},
    ),
  ]);
  return { events, stop: () => requests.forEach((r) => r.abort()) };
}

/** The most Devices merged from `generation` whose worker had not applied it, at any revision. */
function mostInProgress(events: Recorded[], generation: string): number {
  const merged = new Map<string, string>();
  const applied = new Map<string, string>();
  let most = 0;
  for (const e of [...events].sort((a, b) => a.rv - b.rv)) {
    if (e.kind === 'device') merged.set(e.name, e.generation);
    else applied.set(e.name, e.generation);
    const now = [...merged].filter(
      ([d, g]) => g === generation && applied.get(deviceLeaseName(d)) !== generation,
    );
    most = Math.max(most, now.length);
  }
  return most;
}

/** Each Device's merged generation and the generation its worker says it applied, now. */
async function generations(): Promise<Map<string, { merged: string; applied: string }>> {
  const devices = JSON.parse((await kubectl('get', 'devices', '-n', ns, '-o', 'json')).stdout) as {
    items: { metadata: { name: string }; status?: { profile?: { generation?: number } } }[];
  };
  const leases = JSON.parse((await kubectl('get', 'leases', '-n', ns, '-o', 'json')).stdout) as {
    items: { metadata: { name: string; annotations?: Record<string, string> } }[];
  };
  const applied = new Map(
    leases.items.map((l) => [
      l.metadata.name,
      l.metadata.annotations?.[ANNOTATION.appliedProfileGeneration] ?? '',
    ]),
  );
  return new Map(
    devices.items.map((d) => [
      d.metadata.name,
      {
        merged: String(d.status?.profile?.generation ?? ''),
        applied: applied.get(deviceLeaseName(d.metadata.name)) ?? '',
      },
    ]),
  );
}

const workerPods = async () =>
  (await jsonpath('pods -l app.kubernetes.io/component=device-worker', '{.items[*].metadata.name}'))
    .split(' ')
    .sort();

describe('a profile edit across its Devices', () => {
  test(`rolls out ${MAX_CONCURRENT} at a time, in place, with no gap in the unchanged subscription`, async (t) => {
    await apply(profile([{ path: COUNTERS, mode: 'sample', sampleInterval: '1s' }]), ...DEVICES.map(device));
    await waitFor(
      'every Device connected and the profile rolled out',
      async () =>
        (await jsonpath('devprof fleet', '{.status.conditions[?(@.type=="RolledOut")].status}')) === 'True' &&
        (await jsonpath('devices', '{.items[*].status.conditions[?(@.type=="Connected")].status}')) ===
          DEVICES.map(() => 'True').join(' '),
      60_000 + DEVICES.length * 5_000,
      500,
    );
    const first = await jsonpath('devprof fleet', '{.metadata.generation}');
    const podsBefore = await workerPods();

    // The edit: one subscription added, the counters left as they are.
    const recorder = await recordRollout();
    const editedAt = new Date();
    await apply(
      profile([
        { path: COUNTERS, mode: 'sample', sampleInterval: '1s' },
        { path: CPU, mode: 'sample', sampleInterval: '1s' },
      ]),
    );
    const edited = await jsonpath('devprof fleet', '{.metadata.generation}');
    assert.notEqual(edited, first);

    // Watch it roll: Devices merged from the new generation whose worker has not applied it yet
    // are the ones in progress; never more than maxConcurrent.
    let sawProgressing = false;
    await waitFor(
      'every worker on the new generation',
      async () => {
        const now = await generations();
        const condition = await jsonpath(
          'devprof fleet',
          '{.status.conditions[?(@.type=="RolledOut")].status}',
        );
        sawProgressing ||= condition === 'False';
        return [...now.values()].every((g) => g.applied === edited) && now.size === DEVICES.length;
      },
      60_000 + DEVICES.length * 10_000,
      200,
    );
    recorder.stop();
    const most = mostInProgress(recorder.events, edited);
    const rolledOutAfter = (Date.now() - editedAt.getTime()) / 1000;
    assert.ok(most <= MAX_CONCURRENT, `at most ${MAX_CONCURRENT} at a time; saw ${most}`);
    if (DEVICES.length > MAX_CONCURRENT) assert.ok(most > 0, 'the history shows Devices in progress');
    t.diagnostic(
      `${DEVICES.length} Devices, ${MAX_CONCURRENT} at a time: every worker on the edit ${rolledOutAfter.toFixed(1)} s after it; at most ${most} in progress`,
    );
    await waitFor(
      'the profile says RolledOut with every Device updated',
      async () =>
        (await jsonpath(
          'devprof fleet',
          '{.status.updatedDevices}/{.status.conditions[?(@.type=="RolledOut")].status}/{.status.conditions[?(@.type=="RolledOut")].reason}',
        )) === `${DEVICES.length}/True/RolloutComplete`,
      30_000,
      500,
    );
    assert.ok(sawProgressing, 'the profile said Progressing while the edit rolled out');
    assert.deepEqual(await workerPods(), podsBefore, 'applied in place: the same worker pods');

    // Every Device collects the added path, and none lost a second of the unchanged counters.
    await new Promise((r) => setTimeout(r, 2000));
    for (const name of DEVICES) {
      const key = `${ns}/${name}`;
      const added = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM metrics WHERE device = $1 AND path LIKE '/components/component%'`,
        [key],
      );
      assert.ok(Number(added.rows[0]!.n) > 0, `${name} collects the added subscription`);
      const gaps = await db.query<{ gap: number | null }>(
        `SELECT max(gap) AS gap FROM (
           SELECT extract(epoch FROM ts - lag(ts) OVER (ORDER BY ts)) AS gap
           FROM (SELECT DISTINCT ts FROM metrics WHERE device = $1
                   AND path LIKE '/interfaces/interface/state/counters%'
                   AND ts > $2::timestamptz - interval '5 seconds') t
         ) g`,
        [key, editedAt],
      );
      assert.ok(
        gaps.rows[0]!.gap !== null && Number(gaps.rows[0]!.gap) < 2.5,
        `${name}: largest gap in the unchanged counters ${gaps.rows[0]!.gap} s`,
      );
    }
  });
});
