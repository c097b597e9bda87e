import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Device } from '@switchforge/platform/crd';
import { InputError } from '@switchforge/platform/errors';
import { BACKUP_ANNOTATION } from './annotations.js';
import { BackupScheduler, jitterMs, nextRun, type DueBackup } from './schedule.js';

describe('nextRun', () => {
  const cases: Array<[string, string, string]> = [
    ['0 3 * * *', '2026-03-01T02:59:59Z', '2026-03-01T03:00:00.000Z'],
    ['0 3 * * *', '2026-03-01T03:00:00Z', '2026-03-02T03:00:00.000Z'],
    ['0 3 * * *', '2026-12-31T04:00:00Z', '2027-01-01T03:00:00.000Z'],
    ['*/15 * * * *', '2026-03-01T10:07:30Z', '2026-03-01T10:15:00.000Z'],
    ['30 2 * * 0', '2026-03-04T00:00:00Z', '2026-03-08T02:30:00.000Z'], // Wednesday -> Sunday
    ['0 0 1 * *', '2026-02-15T12:00:00Z', '2026-03-01T00:00:00.000Z'],
    ['0 0 29 2 *', '2026-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'], // next leap day
    ['@daily', '2026-03-01T00:00:01Z', '2026-03-02T00:00:00.000Z'],
    ['0 3 * * 1-5', '2026-03-06T03:00:00Z', '2026-03-09T03:00:00.000Z'], // Friday -> Monday
    // UTC, whatever the process's time zone: no daylight-saving jump at the end of March.
    ['0 2 * * *', '2026-03-29T00:00:00Z', '2026-03-29T02:00:00.000Z'],
  ];
  for (const [cron, after, expected] of cases) {
    it(`${JSON.stringify(cron)} after ${after} is ${expected}`, () => {
      assert.equal(nextRun(cron, new Date(after)).toISOString(), expected);
    });
  }

  for (const bad of ['', 'not cron', '61 * * * *', '* * * * * * *', '0 25 * * *']) {
    it(`rejects ${JSON.stringify(bad)} as an InputError`, () => {
      assert.throws(
        () => nextRun(bad, new Date()),
        (e: unknown) => e instanceof InputError && e.reason === 'InvalidSchedule',
      );
    });
  }
});

describe('jitterMs', () => {
  it('is the same for a device every time, within the bound, and spreads devices out', () => {
    const values = Array.from({ length: 50 }, (_, i) => jitterMs(`lab/sw-${i}`, 15_000));
    assert.equal(jitterMs('lab/sw-1', 15_000), values[1]);
    assert.ok(values.every((v) => v >= 0 && v < 15_000));
    assert.ok(new Set(values).size > 40);
    assert.equal(jitterMs('lab/sw-1', 0), 0);
  });
});

const device = (
  annotations: Record<string, string> = {},
  backup?: Device['spec']['backup'],
  lastBackupTime?: string,
): Device => ({
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { namespace: 'lab', name: 'sw1', annotations },
  spec: {
    address: '127.0.0.1',
    protocol: 'netconf',
    credentials: { secretRef: { name: 'c' } },
    ...(backup ? { backup } : {}),
  } as Device['spec'],
  ...(lastBackupTime ? { status: { lastBackup: { time: lastBackupTime, hash: 'ab' } } } : {}),
});
const requested = (value: string) => ({ [BACKUP_ANNOTATION.requested]: value });

describe('BackupScheduler', () => {
  const make = () => {
    const fired: DueBackup[] = [];
    const s = new BackupScheduler({ onDue: (d) => fired.push(d), maxJitterMs: 0 });
    return { s, fired };
  };

  it('fires once per request value, and again only for a newer one', () => {
    const { s, fired } = make();
    s.update(device(requested('2026-03-01T10:00:00Z')));
    assert.equal(fired.length, 0, 'nothing fires before start');
    s.start();
    s.update(device(requested('2026-03-01T10:00:00Z')));
    s.update(device(requested('2026-03-01T10:00:00Z')));
    s.update(device(requested('2026-03-01T09:00:00Z'))); // older: already served
    s.update(device(requested('2026-03-01T10:05:00Z')));
    s.update(device(requested('2026-03-01T10:05:00.000Z'))); // same instant, other spelling
    s.stop();
    assert.deepEqual(fired, [
      { trigger: 'annotation', request: '2026-03-01T10:00:00Z' },
      { trigger: 'annotation', request: '2026-03-01T10:05:00Z' },
    ]);
  });

  it('ignores a request value that is not a time', () => {
    const { s, fired } = make();
    s.start();
    s.update(device(requested('please')));
    s.stop();
    assert.equal(fired.length, 0);
  });

  it('does not redo a request older than the backup recorded in the status (a new worker)', () => {
    const { s, fired } = make();
    s.start();
    s.update(device(requested('2026-03-01T10:00:00Z'), undefined, '2026-03-01T10:00:30Z'));
    s.update(device(requested('2026-03-01T11:00:00Z'), undefined, '2026-03-01T10:00:30Z'));
    s.stop();
    assert.deepEqual(
      fired.map((f) => f.request),
      ['2026-03-01T11:00:00Z'],
    );
  });

  it('asks again for a request that was dispatched but not handled before it was stopped', () => {
    const { s, fired } = make();
    s.start();
    s.update(device(requested('2026-03-01T10:00:00Z')));
    s.stop(); // the lease went before the backup ran
    s.start();
    s.markHandled('2026-03-01T10:00:00Z');
    s.stop();
    s.start();
    s.stop();
    assert.deepEqual(
      fired.map((f) => f.request),
      ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00Z'],
    );
  });

  it('a handled value it is told about (from a predecessor) is not served again', () => {
    const { s, fired } = make();
    s.markHandled('2026-03-01T10:00:00Z');
    s.start();
    s.update(device(requested('2026-03-01T10:00:00Z')));
    s.stop();
    assert.equal(fired.length, 0);
  });

  it('fires at each scheduled time while started, and stops firing when stopped', async () => {
    const { s, fired } = make();
    s.update(device({}, { schedule: '* * * * * *' })); // every second (seconds field)
    s.start();
    await sleep(2_300);
    s.stop();
    const count = fired.length;
    assert.ok(count >= 2 && count <= 3, `fired ${count} times in 2.3 s`);
    assert.ok(fired.every((f) => f.trigger === 'schedule'));
    await sleep(1_200);
    assert.equal(fired.length, count);
  });

  it('has no scheduled runs when backups are disabled, but still answers requests', async () => {
    const { s, fired } = make();
    s.update(device({}, { enabled: false, schedule: '* * * * * *' }));
    s.start();
    await sleep(1_300);
    s.update(device(requested('2026-03-01T10:00:00Z'), { enabled: false, schedule: '* * * * * *' }));
    s.stop();
    assert.deepEqual(
      fired.map((f) => f.trigger),
      ['annotation'],
    );
  });
});
