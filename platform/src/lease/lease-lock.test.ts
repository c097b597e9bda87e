/**
 * The Lease lock's semantics (client-go's): one holder at a time, take-over only after expiry,
 * a lost race on the resourceVersion is a loss and not an error, release hands over at once.
 * The apiserver here is an in-memory map with the one property the lock relies on: a write
 * carrying an old resourceVersion gets a 409.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeaseLock, microTime, type LeaseClient, type LeaseObject } from './lease-lock.js';

class StatusError extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

/** Leases by name, each write bumping the resourceVersion; `beforeWrite` lets a test race. */
class MemoryLeases implements LeaseClient {
  readonly leases = new Map<string, LeaseObject>();
  private version = 0;
  beforeWrite: (() => void) | undefined;

  async read(_namespace: string, name: string): Promise<LeaseObject | undefined> {
    const lease = this.leases.get(name);
    return lease && structuredClone(lease);
  }

  async create(_namespace: string, lease: LeaseObject): Promise<LeaseObject> {
    this.raceHook();
    const name = lease.metadata.name!;
    if (this.leases.has(name)) throw new StatusError(409);
    return this.store(name, lease);
  }

  async replace(_namespace: string, name: string, lease: LeaseObject): Promise<LeaseObject> {
    this.raceHook();
    const current = this.leases.get(name);
    if (!current) throw new StatusError(404);
    if (current.metadata.resourceVersion !== lease.metadata.resourceVersion) throw new StatusError(409);
    return this.store(name, lease);
  }

  private raceHook(): void {
    const hook = this.beforeWrite;
    this.beforeWrite = undefined;
    hook?.();
  }

  /** Another candidate's write landing now, between a read and a write of the lock under test. */
  writeByOther(name: string, holderIdentity: string, renewTime: Date): void {
    this.store(name, {
      metadata: { name, namespace: 'lab' },
      spec: { holderIdentity, renewTime: microTime(renewTime), leaseDurationSeconds: 10 },
    });
  }

  private store(name: string, lease: LeaseObject): LeaseObject {
    const stored = structuredClone(lease);
    stored.metadata.resourceVersion = String(++this.version);
    this.leases.set(name, stored);
    return structuredClone(stored);
  }
}

const t0 = new Date('2026-12-03T12:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const lockFor = (api: LeaseClient, identity: string) =>
  new LeaseLock(api, { namespace: 'lab', name: 'leaf1-collector', identity, durationSeconds: 10 });

describe('the Lease lock', () => {
  test('the first candidate creates and holds it; a second waits until it expires', async () => {
    const api = new MemoryLeases();
    const a = lockFor(api, 'pod-a');
    const b = lockFor(api, 'pod-b');
    assert.deepEqual(await a.tryAcquireOrRenew({}, t0), { held: true, transitioned: true });
    const refused = await b.tryAcquireOrRenew({}, at(5));
    assert.equal(refused.held, false);
    assert.ok(!refused.held && refused.holder === 'pod-a');
    assert.ok(!refused.held && refused.expiresAt.getTime() === at(10).getTime());
  });

  test('the holder renews without a transition; its annotations ride along', async () => {
    const api = new MemoryLeases();
    const a = lockFor(api, 'pod-a');
    await a.tryAcquireOrRenew({}, t0);
    assert.deepEqual(await a.tryAcquireOrRenew({ 'switchforge.io/session-state': 'Connected' }, at(3)), {
      held: true,
      transitioned: false,
    });
    const stored = api.leases.get('leaf1-collector')!;
    assert.equal(stored.spec?.renewTime, microTime(at(3)));
    assert.equal(stored.spec?.leaseTransitions, 0);
    assert.equal(stored.metadata.annotations?.['switchforge.io/session-state'], 'Connected');
  });

  test('after expiry another candidate takes it over and the transition is counted', async () => {
    const api = new MemoryLeases();
    await lockFor(api, 'pod-a').tryAcquireOrRenew({}, t0);
    const b = lockFor(api, 'pod-b');
    assert.deepEqual(await b.tryAcquireOrRenew({}, at(10.001)), { held: true, transitioned: true });
    const stored = api.leases.get('leaf1-collector')!;
    assert.equal(stored.spec?.holderIdentity, 'pod-b');
    assert.equal(stored.spec?.leaseTransitions, 1);
    assert.equal(stored.spec?.acquireTime, microTime(at(10.001)));
    // The old holder, back from a pause, finds it taken.
    const late = await lockFor(api, 'pod-a').tryAcquireOrRenew({}, at(11));
    assert.ok(!late.held && late.holder === 'pod-b');
  });

  test('two candidates racing for an expired lease: exactly one wins, the other is told it lost', async () => {
    const api = new MemoryLeases();
    await lockFor(api, 'pod-a').tryAcquireOrRenew({}, t0);
    const b = lockFor(api, 'pod-b');
    // c writes between b's read and b's write.
    api.beforeWrite = () => api.writeByOther('leaf1-collector', 'pod-c', at(20));
    const outcome = await b.tryAcquireOrRenew({}, at(20));
    assert.equal(outcome.held, false, 'b lost the race on the resourceVersion');
    assert.equal(api.leases.get('leaf1-collector')!.spec?.holderIdentity, 'pod-c');
  });

  test('two candidates creating it at once: the second gets a loss, not an error', async () => {
    const api = new MemoryLeases();
    const b = lockFor(api, 'pod-b');
    api.beforeWrite = () => api.writeByOther('leaf1-collector', 'pod-a', t0);
    const outcome = await b.tryAcquireOrRenew({}, t0);
    assert.equal(outcome.held, false);
  });

  test('release hands it over at once; a release by a non-holder changes nothing', async () => {
    const api = new MemoryLeases();
    const a = lockFor(api, 'pod-a');
    await a.tryAcquireOrRenew({}, t0);
    await lockFor(api, 'pod-b').release();
    assert.equal(api.leases.get('leaf1-collector')!.spec?.holderIdentity, 'pod-a');
    await a.release();
    assert.deepEqual(await lockFor(api, 'pod-b').tryAcquireOrRenew({}, at(1)), {
      held: true,
      transitioned: true,
    });
  });

  test('errors other than a lost race reach the caller', async () => {
    const failing: LeaseClient = {
      read: async () => undefined,
      create: async () => {
        throw new StatusError(403);
      },
      replace: async () => {
        throw new StatusError(403);
      },
    };
    await assert.rejects(lockFor(failing, 'pod-a').tryAcquireOrRenew({}, t0), /HTTP 403/);
  });
});
