import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { Device } from '@switchforge/platform/crd';
import { createDataSource, migrate } from '@switchforge/platform/db';
import { startTelemetry, type Telemetry } from '@switchforge/platform/telemetry';
import { freePort, useInfra, type Infra } from '@switchforge/testkit';
import { startNetconfSimulator, type NetconfSimulator } from '@switchforge/simulators/netconf';
import { BACKUP_ANNOTATION } from './annotations.js';
import { BackupService, type BackupResult } from './backup-service.js';
import { fetchRunningConfig } from './fetch.js';
import { BackupStore } from './store.js';
import { closedPort, testDevice } from './test-support.js';

const schema = `backupsvc_${randomBytes(4).toString('hex')}`;
let infra: Infra;
let db: DataSource;
let store: BackupStore;
let sim: NetconfSimulator;
let telemetry: Telemetry;
const services: BackupService[] = [];

const requested = (t: string) => ({ [BACKUP_ANNOTATION.requested]: t });

/** A started, active service over the real store and fetch, collecting its results. */
function serviceFor(extra: { maxJitterMs?: number } = {}) {
  const results: BackupResult[] = [];
  let fetches = 0;
  const service = new BackupService({
    store,
    fetch: (device, signal) => {
      fetches++;
      return fetchRunningConfig(
        device,
        { username: 'admin', password: 'admin', hostKey: sim.hostKey },
        { signal, connectTimeoutMs: 3_000 },
      );
    },
    onBackup: (r) => results.push(r),
    maxJitterMs: extra.maxJitterMs ?? 0,
  });
  services.push(service);
  return { service, results, fetches: () => fetches };
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${telemetry.prometheusPort}/metrics`);
  return res.text();
}

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('BackupService against a NETCONF simulator and a real PostgreSQL', () => {
  before(async () => {
    // Before any service exists: instruments bind to the provider set up here. (The exporter
    // reads port 0 as "default 9464", so a free port is picked here.)
    telemetry = await startTelemetry({
      serviceName: 'backup-test',
      prometheusPort: await freePort(),
      prometheusHost: '127.0.0.1',
    });
    infra = await useInfra({ postgres: true });
    await migrate({ url: infra.postgres.dsn, schema });
    db = createDataSource({ url: infra.postgres.dsn, schema, poolSize: 4 });
    await db.initialize();
    store = new BackupStore(db);
    sim = await startNetconfSimulator({ interfaces: 2 });
  });
  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await sim?.stop();
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db?.destroy();
    await infra?.stop();
    await telemetry?.shutdown();
  });

  it('answers each backup request once, storing a version only when the configuration changed', async () => {
    sim.setInterfaces(2);
    const { service, results } = serviceFor();
    const dev = (annotations: Record<string, string>) =>
      testDevice('svc-annotation', { protocol: 'netconf', port: sim.port }, annotations);
    service.updateDevice(dev(requested('2026-03-01T10:00:00Z')));
    service.setActive(true);
    service.start();
    const first = await until('the first backup', () => results[0]);
    assert.equal(first.outcome, 'stored');
    assert.equal(first.trigger, 'annotation');
    assert.equal(first.request, '2026-03-01T10:00:00Z');

    // The same request seen again (every informer event carries it) is not answered again.
    service.updateDevice(dev(requested('2026-03-01T10:00:00Z')));
    service.updateDevice(dev(requested('2026-03-01T10:00:00Z')));
    await sleep(300);
    assert.equal(results.length, 1);

    service.updateDevice(dev(requested('2026-03-01T10:01:00Z')));
    const unchanged = await until('the second backup', () => results[1]);
    assert.deepEqual([unchanged.outcome, unchanged.hash, unchanged.id], ['unchanged', first.hash, first.id]);

    sim.setInterfaces(3);
    service.updateDevice(dev(requested('2026-03-01T10:02:00Z')));
    const changed = await until('the third backup', () => results[2]);
    assert.equal(changed.outcome, 'stored');
    assert.notEqual(changed.hash, first.hash);

    const versions = await store.list('lab/svc-annotation');
    assert.deepEqual(
      versions.map((v) => v.id),
      [changed.id, first.id],
    );
    const diff = await store.diff(first.id!, changed.id!);
    assert.match(diff.patch, /^\+\s+<name>Ethernet3<\/name>$/m);
    assert.doesNotMatch(diff.patch, /^-\s+<name>Ethernet[12]<\/name>$/m);

    assert.deepEqual(service.leaseAnnotations(), {
      [BACKUP_ANNOTATION.lastTime]: changed.time,
      [BACKUP_ANNOTATION.lastHash]: changed.hash,
      [BACKUP_ANNOTATION.handled]: '2026-03-01T10:02:00Z',
    });
    await service.stop();
  });

  it('does nothing without the lease, and answers a pending request and on-demand runs once it holds it', async () => {
    const { service, results, fetches } = serviceFor();
    service.updateDevice(
      testDevice('svc-lease', { protocol: 'netconf', port: sim.port }, requested('2026-03-01T11:00:00Z')),
    );
    service.start();
    await sleep(300);
    assert.equal(fetches(), 0);
    const refused = await service.runNow('api');
    assert.deepEqual([refused.outcome, refused.reason, fetches()], ['failed', 'NotActive', 0]);
    service.setActive(true);
    assert.equal((await until('the backup', () => results[0])).outcome, 'stored');
    const onDemand = await service.runNow('api');
    assert.deepEqual(
      [onDemand.trigger, onDemand.outcome, onDemand.hash],
      ['api', 'unchanged', results[0]!.hash],
    );
    await service.stop();
  });

  it('gives up a backup when the lease is lost mid-way, stores nothing, and answers the request when the lease is back', async () => {
    const { service, results } = serviceFor();
    sim.setMisbehaviour({ kind: 'slow', delayMs: 800 });
    try {
      service.updateDevice(
        testDevice('svc-lost', { protocol: 'netconf', port: sim.port }, requested('2026-03-01T12:00:00Z')),
      );
      service.setActive(true);
      service.start();
      await sleep(300);
      service.setActive(false);
      const r = await until('the abandoned backup', () => results[0]);
      assert.equal(r.outcome, 'failed');
      assert.equal(r.reason, 'Abandoned');
      assert.deepEqual(await store.list('lab/svc-lost'), []);
      assert.equal(service.leaseAnnotations()[BACKUP_ANNOTATION.handled], undefined);

      // The lease comes back: the request still stands and is answered now.
      sim.setMisbehaviour({ kind: 'none' });
      service.setActive(true);
      const retried = await until('the retried backup', () => results[1]);
      assert.deepEqual([retried.outcome, retried.request], ['stored', '2026-03-01T12:00:00Z']);
    } finally {
      sim.setMisbehaviour({ kind: 'none' });
      await service.stop();
    }
  });

  it('counts a failed backup of an unreachable device, keeps going, and tries again at the next trigger', async () => {
    const { service, results, fetches } = serviceFor();
    const before = await scrape();
    const failedBefore = metricValue(before, 'switchforge_backup_runs_total', {
      device: 'lab/svc-down',
      outcome: 'failed',
    });
    const down = await closedPort();
    const dev = (port: number, t: string) =>
      testDevice('svc-down', { protocol: 'netconf', port }, requested(t));
    service.updateDevice(dev(down, '2026-03-01T13:00:00Z'));
    service.setActive(true);
    service.start();
    const failed = await until('the failed backup', () => results[0]);
    assert.deepEqual([failed.outcome, failed.reason], ['failed', 'Unreachable']);
    assert.equal(service.leaseAnnotations()[BACKUP_ANNOTATION.lastHash], undefined);
    assert.equal(service.leaseAnnotations()[BACKUP_ANNOTATION.handled], '2026-03-01T13:00:00Z');

    service.updateDevice(dev(down, '2026-03-01T13:01:00Z'));
    assert.equal((await until('the second failure', () => results[1])).outcome, 'failed');
    assert.equal(fetches(), 2);

    // The device comes back: the next trigger succeeds.
    service.updateDevice(dev(sim.port, '2026-03-01T13:02:00Z'));
    assert.equal((await until('the recovery', () => results[2])).outcome, 'stored');

    const text = await scrape();
    assert.equal(
      metricValue(text, 'switchforge_backup_runs_total', {
        device: 'lab/svc-down',
        outcome: 'failed',
        reason: 'Unreachable',
      }) - failedBefore,
      2,
    );
    assert.equal(
      metricValue(text, 'switchforge_backup_runs_total', {
        device: 'lab/svc-down',
        outcome: 'stored',
        trigger: 'annotation',
      }),
      1,
    );
    assert.equal(metricValue(text, 'switchforge_backup_stored_total', { device: 'lab/svc-down' }), 1);
    assert.match(text, /^switchforge_backup_duration_count\{[^}]*device="lab\/svc-down"[^}]*\} \d+/m);
    await service.stop();
  });

  it('runs scheduled backups at the cron times while active, and stops with the service', async () => {
    const { service, results } = serviceFor();
    const device: Device = testDevice('svc-cron', {
      protocol: 'netconf',
      port: sim.port,
      backup: { schedule: '* * * * * *' },
    });
    service.updateDevice(device);
    service.setActive(true);
    service.start();
    await until('two scheduled backups', () => results.length >= 2, 5_000);
    await service.stop();
    const count = results.length;
    assert.ok(results.every((r) => r.trigger === 'schedule'));
    assert.deepEqual(
      results.slice(0, 2).map((r) => r.outcome),
      ['stored', 'unchanged'],
    );
    await sleep(1_200);
    assert.equal(results.length, count);
  });
});
