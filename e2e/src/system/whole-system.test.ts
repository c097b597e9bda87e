/**
 * The whole system end to end, with faults one after another: 20 gNMI Devices on a cluster of
 * three kwok nodes (the Helm chart's operator, API and audio worker pool, and the device workers
 * the operator creates, all as real processes the pod runner starts for their pods; one
 * simulator serving all 20 switches), then an AudioJob whose audio worker pod is killed
 * mid-separation, a worker crash, a lost node, the leading operator pod killed, a PostgreSQL restart and an
 * API pod killed under a subscriber. Each fault must heal with no committed row lost or
 * duplicated. The times from fault to first new row are printed; the goals are judged by
 * `npm run bench`, so the assertions here only bound recovery generously.
 *
 * It takes two to six minutes on two cores, so it runs when SWITCHFORGE_WHOLE_SYSTEM=1
 * (`SWITCHFORGE_WHOLE_SYSTEM=1 npm test`, or this file alone) and is skipped otherwise.
 */
import { caSecret, loginSecret } from '../harness/manifests.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { migrate } from '@switchforge/platform/db';
import { collect, wsClient } from '../api/fixture.js';
import { pgCtl, useInfra, waitFor, type Infra } from '@switchforge/testkit';
import { generateTestPki, type TestPki } from '@switchforge/simulators/certs';
import { startGnmiSimulator, type GnmiSimulator } from '@switchforge/simulators/gnmi/server';
import { installCrds, startPodRunner, type PodRunnerHandle } from '../harness/platform-under-test.js';
import { installChart, SHARED_HOST_ENV } from '../harness/chart-release.js';
import { RowLedger, type Recovery } from './whole-system-ledger.js';
import {
  offlineTinyModels,
  pythonWorkersDir,
  readyVenvPython,
  serveWav,
  type WavServer,
} from '../harness/audio-fixtures.js';
import { Client, Connection } from '@temporalio/client';
import type { AudioJob } from '@switchforge/platform/crd';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '@switchforge/testkit/processes';

const ns = 'whole-system';
const names = Array.from({ length: 20 }, (_, i) => `dev-${String(i + 1).padStart(2, '0')}`);
const everyDevice = names.map((n) => `${ns}/${n}`);
const RECOVERY_LIMIT_S = 60;

let infra: Infra;
let db: pg.Pool;
let ledger: RowLedger;
let pki: TestPki;
let sim: GnmiSimulator;
let pods: PodRunnerHandle;
/** The audio scenario runs where the python-workers venv is ready (python-workers/setup.sh). */
const python = readyVenvPython();
let audioDir: string | undefined;
let wav: WavServer | undefined;

const kubectl = async (args: string[], input?: string): Promise<string> => {
  const r = await infra.kubernetes.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

interface WorkerPod {
  device: string;
  pod: string;
  node: string;
}

/** The live (not terminating) worker pods, one line each. */
async function workerPods(): Promise<WorkerPod[]> {
  const out = await kubectl([
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    'switchforge.io/device',
    '-o',
    'jsonpath={range .items[*]}{.metadata.labels.switchforge\\.io/device} {.metadata.name} {.spec.nodeName} {.metadata.deletionTimestamp}{"\\n"}{end}',
  ]);
  return out
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((f) => f.length === 3 && f[2] !== '')
    .map(([device, pod, node]) => ({ device: `${ns}/${device!}`, pod: pod!, node: node! }));
}

async function connectedCount(): Promise<number> {
  const out = await kubectl([
    'get',
    'devices',
    '-n',
    ns,
    '-o',
    'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Connected")].status}{"\\n"}{end}',
  ]);
  return out.split('\n').filter((s) => s.trim() === 'True').length;
}

interface RunningPod {
  name: string;
  ip: string;
}

/**
 * Pods of one of the chart's components that are not being deleted and whose process the pod
 * runner has running, with their pod IPs.
 */
async function runningPods(component: string): Promise<RunningPod[]> {
  const out = await kubectl([
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    `app.kubernetes.io/component=${component}`,
    '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.metadata.deletionTimestamp}{"\\n"}{end}',
  ]);
  const running = new Set(pods.runner.pods);
  return out
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((f) => f.length === 2 && running.has(`${ns}/${f[0]}`))
    .map(([name, ip]) => ({ name: name!, ip: ip! }));
}

async function audioJob(name: string): Promise<AudioJob | undefined> {
  const r = await infra.kubernetes.kubectl(['get', 'audiojob', name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as AudioJob) : undefined;
}

/** This test's Demucs separator process, found by its arguments (other suites may run their own). */
async function separatorProcess(): Promise<number | undefined> {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('switchforge_audio.separator') && argv.some((a) => a.startsWith(audioDir!)))
        return Number(entry);
    } catch {
      /* exited meanwhile */
    }
  }
  return undefined;
}

async function waitForValue<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  let value: T | undefined;
  await waitFor(what, async () => (value = await probe()) !== undefined, ms, 250);
  return value!;
}

function report(fault: string, r: Recovery, devices: number): void {
  console.log(
    `whole-system: ${fault} → first new row in ${r.firstSeconds.toFixed(2)} s (all ${devices} affected devices in ${r.allSeconds.toFixed(2)} s)`,
  );
}

/** Baseline counts taken `settleMs` after the fault, once rows a dying writer had in flight have landed. */
async function recoverAfter(faultAt: number, devices: readonly string[], settleMs = 500): Promise<Recovery> {
  await sleep(settleMs);
  const baseline = await ledger.counts();
  const r = await ledger
    .waitForNewRows(devices, faultAt, baseline, RECOVERY_LIMIT_S * 1000)
    .catch(async (e: unknown) => {
      // What the cluster looked like when recovery did not come: which pod, node and lease holder.
      const state = await infra.kubernetes.kubectl(['get', 'pods,leases', '-n', ns, '-o', 'wide']);
      throw new Error(`${String(e)}\n${state.stdout}\nrunner: ${pods.runner.pods.join(' ')}`);
    });
  assert.ok(r.allSeconds < RECOVERY_LIMIT_S, `${r.allSeconds} s`);
  return r;
}

async function assertNothingDuplicated(): Promise<void> {
  assert.equal(await ledger.duplicates(), 0, 'no two rows share a (device, path, labels, ts) key');
}

const enabled = process.env.SWITCHFORGE_WHOLE_SYSTEM === '1';

before(async () => {
  if (!enabled) return;
  infra = await useInfra({ kubernetes: true, postgres: true, temporal: !!python }, { dedicated: true });
  await installCrds(infra);
  await migrate({ url: infra.postgres.dsn });
  db = new pg.Pool({ connectionString: infra.postgres.dsn, max: 2 });
  // The PostgreSQL restart ends idle connections; the pool replaces them.
  db.on('error', () => undefined);
  ledger = new RowLedger(db, ns);
  pki = generateTestPki();
  sim = await startGnmiSimulator({
    deviceNames: names,
    interfaces: 2,
    tls: { cert: pki.server.cert, key: pki.server.key },
    credentials: { username: 'u', password: 'p' },
  });
  await kubectl(['create', 'namespace', ns]);
  let imageEnv: Record<string, string> | undefined;
  const storageRoot = python
    ? join((audioDir = mkdtempSync(join(tmpdir(), 'sf-whole-system-'))), 'storage')
    : '/';
  if (python) {
    imageEnv = await offlineTinyModels(python, join(audioDir!, 'torch'));
    wav = await serveWav(20);
    // The audio volume: it exists before any pod mounts it.
    mkdirSync(storageRoot);
  }
  pods = await startPodRunner(infra, ns, imageEnv);
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'switchforge-db', namespace: ns },
      stringData: { url: infra.postgres.dsn },
    }),
  );
  // The release lives in the Devices' namespace, so that one namespaced pod runner runs it all.
  await installChart(infra, ns, {
    database: { existingSecret: 'switchforge-db' },
    temporal: python
      ? { enabled: true, address: infra.temporal.address, namespace: infra.temporal.namespace }
      : { enabled: false },
    operator: {
      replicas: 2,
      leaderElection: { leaseSeconds: 4 },
      watchNamespace: ns,
      extraEnv: [
        ...SHARED_HOST_ENV.operator,
        { name: 'AUDIO_WATCH_NAMESPACE', value: ns },
        { name: 'AUDIO_PROGRESS_POLL', value: '500ms' },
      ],
    },
    api: { replicas: 2, extraEnv: SHARED_HOST_ENV.api },
    audio: {
      enabled: !!python,
      queuePrefix: 'whole-system-',
      storageRoot,
      pool: { minReplicas: 2, maxReplicas: 2, interval: '2s' },
      worker: { python: python ?? '', pythonCwd: pythonWorkersDir },
    },
  });
  const docs: object[] = [
    loginSecret({ name: 'login', namespace: ns }, 'u', 'p'),
    caSecret({ name: 'ca', namespace: ns }, pki.ca.cert),
    // The API's subscriber: a ServiceAccount that may read Devices in this namespace.
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reader', namespace: ns },
      rules: [{ apiGroups: ['switchforge.io'], resources: ['devices'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    },
    ...names.map((name) => ({
      apiVersion: 'switchforge.io/v1alpha1',
      kind: 'Device',
      metadata: { name, namespace: ns },
      spec: {
        address: '127.0.0.1',
        port: sim.port,
        protocol: 'gnmi',
        credentials: { secretRef: { name: 'login' } },
        tls: { caSecretRef: { name: 'ca' }, serverName: 'localhost' },
        subscriptions: [
          { path: '/interfaces/interface[name=*]/state/counters', mode: 'sample', sampleInterval: '1s' },
        ],
      },
    })),
  ];
  await kubectl(['apply', '-f', '-'], docs.map((d) => JSON.stringify(d)).join('\n'));
});

after(async () => {
  if (!enabled) return;
  await pods?.stop();
  await sim?.stop();
  await wav?.close();
  if (audioDir) rmSync(audioDir, { recursive: true, force: true });
  pki?.remove();
  await db?.end();
  await infra?.stop();
});

describe(
  'the whole system under faults',
  { skip: enabled ? false : 'set SWITCHFORGE_WHOLE_SYSTEM=1 to run it (2–6 min)' },
  () => {
    test('20 devices stream from workers spread over the three nodes, all Connected', async () => {
      await waitFor(
        'rows from all 20 devices',
        async () => (await ledger.counts()).size === 20,
        150_000,
        1_000,
      );
      await waitFor('all 20 Devices Connected', async () => (await connectedCount()) === 20, 30_000, 1_000);
      const running = await workerPods();
      assert.equal(running.length, 20, JSON.stringify(running));
      const nodes = new Set(running.map((p) => p.node));
      assert.deepEqual(
        [...nodes].sort(),
        Object.keys(infra.kubernetes.nodes).sort(),
        'every node runs some workers',
      );
      await assertNothingDuplicated();
    });

    test(
      'an AudioJob whose audio worker pod is killed mid-separation is retried on another worker and succeeds',
      { skip: python ? false : 'python-workers venv not ready: run `bash python-workers/setup.sh`' },
      async () => {
        await waitFor(
          'two audio worker pods running',
          async () => (await runningPods('audio-worker')).length === 2,
          120_000,
          500,
        );
        const job = {
          apiVersion: 'switchforge.io/v1alpha1',
          kind: 'AudioJob',
          metadata: { name: 'track', namespace: ns },
          spec: {
            source: { url: wav!.url },
            stages: {
              separate: { model: 'htdemucs', device: 'cpu', shifts: 1 },
              analyze: { features: ['tempo', 'key', 'loudness'] },
            },
            timeouts: { download: '30s', separate: '3m', analyze: '2m' },
          },
        };
        await kubectl(['apply', '-f', '-'], JSON.stringify(job));
        const uid = (await audioJob('track'))!.metadata.uid!;
        const separator = await waitForValue('the separator process', separatorProcess, 120_000).catch(
          async (e: unknown) => {
            throw new Error(`${String(e)}; job status: ${JSON.stringify((await audioJob('track'))?.status)}`);
          },
        );
        // Mid-separation: the Python process has started working on the track.
        await sleep(1_000);
        const pod = pods.runner.podOfProcess(separator)?.split('/')[1];
        assert.ok(pod, `the separator ${separator} runs in a pod`);
        const [workerPid] = pods.runner.pids(ns, pod);
        const killedIdentity = `${workerPid}@${hostname()}`;
        const killedAt = Date.now();
        assert.equal(pods.runner.crash(ns, pod), 1);
        await waitFor('the killed separator to be gone', async () => !isAlive(separator), 5_000, 100);

        const done = await waitForValue(
          'the AudioJob to end',
          async () => {
            const j = await audioJob('track');
            return j?.status?.phase === 'Succeeded' || j?.status?.phase === 'Failed' ? j : undefined;
          },
          240_000,
        );
        const seconds = (Date.now() - killedAt) / 1000;
        assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status));

        // Temporal records the attempt that completed: a later one, started by another worker.
        const connection = await Connection.connect({ address: infra.temporal.address });
        try {
          const client = new Client({ connection, namespace: infra.temporal.namespace });
          const history = await client.workflow.getHandle(done.status!.workflowId!).fetchHistory();
          const scheduled = (history.events ?? []).find(
            (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'separate',
          );
          const started = (history.events ?? []).find(
            (e) =>
              e.activityTaskStartedEventAttributes &&
              Number(e.activityTaskStartedEventAttributes.scheduledEventId) === Number(scheduled?.eventId),
          )?.activityTaskStartedEventAttributes;
          assert.ok(started, 'the separate activity started');
          assert.ok((started.attempt ?? 1) >= 2, `separate retried: attempt ${started.attempt}`);
          assert.notEqual(started.identity, killedIdentity, 'the retry ran on another worker');
          console.log(
            `whole-system: audio worker pod ${pod} killed mid-separation → separate attempt ${started.attempt} on ${started.identity}, job Succeeded ${seconds.toFixed(1)} s after the kill`,
          );
        } finally {
          await connection.close();
        }

        const results = await db.query<{ stems: Record<string, string>; model: string }>(
          'SELECT stems, model FROM audio_results WHERE job_uid = $1',
          [uid],
        );
        assert.equal(results.rowCount, 1, 'one result row');
        const stems = Object.entries(results.rows[0]!.stems);
        assert.ok(stems.length >= 2, JSON.stringify(results.rows[0]));
        for (const [name, path] of stems) {
          assert.ok(statSync(join(audioDir!, 'storage', path)).size > 44, `${name} at ${path} holds audio`);
        }
        const phase = await db.query<{ phase: string }>('SELECT phase FROM audio_jobs WHERE uid = $1', [uid]);
        assert.equal(phase.rows[0]?.phase, 'Succeeded');
        await assertNothingDuplicated();
      },
    );

    test('a crashed worker process is restarted and its device writes again', async () => {
      const [victim] = await workerPods();
      const faultAt = Date.now();
      assert.equal(pods.runner.crash(ns, victim!.pod), 1);
      report('worker process killed', await recoverAfter(faultAt, [victim!.device]), 1);
      await assertNothingDuplicated();
    });

    test('a lost node: its devices are collected again from the other nodes', async () => {
      const before = await workerPods();
      const node = before[0]!.node;
      const affected = before.filter((p) => p.node === node);
      const faultAt = Date.now();
      process.kill(infra.kubernetes.nodes[node]!, 'SIGKILL'); // the node's heartbeats stop
      pods.runner.loseNode(node); // and its processes die with it
      report(
        'node lost',
        await recoverAfter(
          faultAt,
          affected.map((p) => p.device),
        ),
        affected.length,
      );
      const now = await workerPods();
      for (const p of affected) {
        const replacement = now.find((q) => q.device === p.device);
        assert.ok(
          replacement && replacement.node !== node,
          `${p.device} runs elsewhere: ${JSON.stringify(replacement)}`,
        );
      }
      await assertNothingDuplicated();
    });

    test('an operator crash does not stop collection, and a new leader sees every Device Connected', async () => {
      const lease = async () =>
        (
          await kubectl([
            'get',
            'lease',
            'switchforge-operator',
            '-n',
            ns,
            '-o',
            'jsonpath={.spec.holderIdentity} {.spec.renewTime}',
          ])
        )
          .trim()
          .split(' ');
      const [leader] = await lease();
      assert.ok(leader, 'an operator pod leads');
      const faultAt = Date.now();
      assert.equal(pods.runner.crash(ns, leader), 1, `the leader ${leader} runs`);
      // Collection never depended on the operator: every device keeps writing.
      report('operator pod killed', await recoverAfter(faultAt, everyDevice, 0), everyDevice.length);
      const [next] = await waitForValue(
        'an operator to lead again',
        async () => {
          const [holder, renewed] = await lease();
          return holder && renewed && Date.parse(renewed) > faultAt ? [holder] : undefined;
        },
        RECOVERY_LIMIT_S * 1000,
      );
      console.log(
        `whole-system: operator leader ${leader} killed → ${next} leads after ${((Date.now() - faultAt) / 1000).toFixed(1)} s`,
      );
      await waitFor(
        'all 20 Devices Connected again',
        async () => (await connectedCount()) === 20,
        RECOVERY_LIMIT_S * 1000,
        1_000,
      );
      await assertNothingDuplicated();
    });

    test('a PostgreSQL restart: every device writes again and no committed row is lost', async () => {
      await ledger.counts();
      const faultAt = Date.now();
      await pgCtl(infra.postgres, 'restart');
      // The workers buffered while the server was down; every device's rows resume.
      report('PostgreSQL restarted', await recoverAfter(faultAt, everyDevice, 0), everyDevice.length);
      await assertNothingDuplicated();
    });

    test('an API pod killed under a subscriber: a new replica resumes it by sequence with no gap', async () => {
      const device = names.at(-1)!;
      const token = (await kubectl(['create', 'token', 'reader', '-n', ns, '--duration=1h'])).trim();
      // Two replicas of the chart's API Deployment, ready (their device cache synced).
      const replicas = await waitForValue(
        'two ready API pods',
        async () => {
          const ready: RunningPod[] = [];
          for (const p of await runningPods('api')) {
            const r = await fetch(`http://${p.ip}:8080/readyz`).catch(() => undefined);
            if (r?.status === 200) ready.push(p);
          }
          return ready.length >= 2 ? ready : undefined;
        },
        RECOVERY_LIMIT_S * 2000,
      );
      interface Update {
        deviceUpdates: { sequence: string; dropped: number; gap: { reason: string } | null };
      }
      const SUB = `subscription($ns: String!, $name: String!, $since: Sequence) {
      deviceUpdates(namespace: $ns, name: $name, sinceSequence: $since) { sequence dropped gap { reason } }
    }`;

      const [first, second] = replicas as [RunningPod, RunningPod];
      const client = wsClient(`http://${first.ip}:8080/graphql`, token);
      const closed = new Promise<{ code: number; at: number }>((resolve) =>
        client.on('closed', (e) => resolve({ code: (e as { code: number }).code, at: Date.now() })),
      );
      const received = await collect<Update>(client, SUB, { ns, name: device }, 3, 30_000).done;
      assert.equal(received.length, 3, JSON.stringify(received));
      const last = received.at(-1)!.data!.deviceUpdates.sequence;

      const faultAt = Date.now();
      assert.equal(pods.runner.crash(ns, first.name), 1);
      // Killed, the replica closes nothing itself: the kernel ends the connection.
      const drop = await closed;
      assert.ok(drop.at >= faultAt, `the subscription ended with the replica (close ${drop.code})`);
      await client.dispose();
      // The worker keeps committing while the subscriber finds another replica.
      await sleep(1_500);

      const again = wsClient(`http://${second.ip}:8080/graphql`, token);
      const resumed = collect<Update>(again, SUB, { ns, name: device, since: last }, 4, 30_000);
      let done = false;
      const firstMessageAt = (async () => {
        while (resumed.messages.length === 0 && !done) await sleep(20);
        return Date.now();
      })();
      const messages = await resumed.done;
      done = true;
      const seconds = ((await firstMessageAt) - faultAt) / 1000;
      await again.dispose();
      assert.equal(messages.length, 4, JSON.stringify(messages));
      const seqs = [BigInt(last), ...messages.map((m) => BigInt(m.data!.deviceUpdates.sequence))];
      assert.ok(
        seqs.every((q, i) => i === 0 || q > seqs[i - 1]!),
        `batches after the last one seen, in order: ${seqs.join(' ')}`,
      );
      assert.ok(
        messages.every((m) => m.data!.deviceUpdates.gap === null && m.data!.deviceUpdates.dropped === 0),
        JSON.stringify(messages),
      );
      console.log(
        `whole-system: API pod killed → first resumed batch (no gap) on the other replica in ${seconds.toFixed(2)} s`,
      );
      assert.ok(seconds < RECOVERY_LIMIT_S, `${seconds} s`);
      await ledger.counts();
      await assertNothingDuplicated();
    });
  },
);
