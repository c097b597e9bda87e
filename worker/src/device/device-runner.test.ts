/**
 * The device runner and its Lease: it collects only while it holds the Lease, stops its
 * sessions and writes the moment it learns it lost it (taken, or not renewed in time), and on
 * shutdown flushes and releases. The Lease answers are scripted; collectors and the writer are
 * recording fakes.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { Device } from '@switchforge/platform/crd';
import { ANNOTATION } from '@switchforge/platform/device-worker';
import type { LeaseOutcome } from '@switchforge/platform/lease';
import { DeviceRunner, type DeviceRunnerOptions, type RunnerWriter } from './device-runner.js';
import type { Sample } from './sample.js';

const device: Device = {
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'Device',
  metadata: { name: 'leaf1', namespace: 'lab' },
  spec: { address: '127.0.0.1', protocol: 'gnmi', credentials: { secretRef: { name: 'leaf1-login' } } },
};

const sample = (value: number): Sample => ({
  device: 'lab/leaf1',
  path: '/interfaces/interface/state/counters/in-octets',
  labels: { name: 'Ethernet1' },
  timestampNs: BigInt(Date.now()) * 1_000_000n,
  value,
});

/** Each renewal takes the next answer; the last one repeats. A thrown Error is a failed call. */
function scriptedLease(answers: Array<LeaseOutcome | Error>) {
  const calls: Array<Record<string, string>> = [];
  let released = 0;
  const lease: DeviceRunnerOptions['lease'] = {
    options: { namespace: 'lab', name: 'leaf1-collector', identity: 'pod-a', durationSeconds: 1 },
    tryAcquireOrRenew: async (annotations = {}) => {
      calls.push(annotations);
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    release: async () => void released++,
  };
  return { lease, calls, released: () => released };
}

function recordingWriter() {
  const added: Sample[] = [];
  const events: string[] = [];
  const writer: RunnerWriter = {
    add: (samples) => (added.push(...samples), true),
    whenDrained: async () => undefined,
    pause: () => void events.push('pause'),
    resume: () => void events.push('resume'),
    flush: async () => void events.push('flush'),
    dropped: 0,
    droppedRecently: () => false,
    droppedUnderPressure: 0,
    lastDropCause: 'buffer_full',
  };
  return { writer, added, events };
}

/** A collector that emits a sample every 5 ms until stopped, and records that it was stopped. */
function tickingPlanner() {
  const stopped: string[] = [];
  const planner: DeviceRunnerOptions['planner'] = () => [
    {
      key: 'unit-1',
      create: () => ({
        run: async (handlers, signal) => {
          handlers.onState({ state: 'connected' });
          let n = 0;
          while (!signal.aborted) {
            handlers.onSamples([sample(n++)]);
            await sleep(5, undefined, { signal }).catch(() => undefined);
          }
          stopped.push('unit-1');
        },
      }),
    },
  ];
  return { planner, stopped };
}

const held: LeaseOutcome = { held: true, transitioned: false };
const taken: LeaseOutcome = { held: false, holder: 'pod-b', expiresAt: new Date(Date.now() + 10_000) };

function runnerWith(lease: DeviceRunnerOptions['lease'], renewIntervalMs = 20) {
  const w = recordingWriter();
  const p = tickingPlanner();
  const leaseChanges: boolean[] = [];
  const runner = new DeviceRunner({
    device: 'lab/leaf1',
    lease,
    renewIntervalMs,
    planner: p.planner,
    writer: w.writer,
    onLeaseChange: (h) => leaseChanges.push(h),
  });
  runner.updateDevice(device);
  return { runner, ...w, ...p, leaseChanges };
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

describe('the device runner and its Lease', () => {
  test('nothing is collected before the Lease is held', async () => {
    const { lease } = scriptedLease([taken]);
    const r = runnerWith(lease);
    const stop = new AbortController();
    const running = r.runner.run(stop.signal);
    await sleep(100);
    assert.equal(r.runner.holdsLease, false);
    assert.equal(r.added.length, 0, 'no session without the Lease');
    stop.abort();
    await running;
  });

  test('holding it, samples reach the writer and the session state rides on the renewals', async () => {
    const { lease, calls } = scriptedLease([{ held: true, transitioned: true }, held]);
    const r = runnerWith(lease);
    const stop = new AbortController();
    const running = r.runner.run(stop.signal);
    await until(() => r.added.length > 5 && calls.length > 2);
    assert.equal(r.runner.holdsLease, true);
    assert.deepEqual(r.events.slice(0, 1), ['resume']);
    assert.equal(calls.at(-1)![ANNOTATION.sessionState], 'connected');
    stop.abort();
    await running;
  });

  test('the profile generation it collects with rides on the Lease, told at once when it changes', async () => {
    const { lease, calls } = scriptedLease([{ held: true, transitioned: true }, held]);
    // A renewal a minute apart: only an update can bring the next one forward.
    const r = runnerWith(lease, 60_000);
    const stop = new AbortController();
    const running = r.runner.run(stop.signal);
    await until(() => calls.length >= 1);
    assert.equal(calls.at(-1)![ANNOTATION.appliedProfileGeneration], '', 'no profile: empty');
    r.runner.updateDevice({ ...device, status: { profile: { name: 'arista', generation: 7 } } });
    await until(() => calls.length >= 2, 1000);
    assert.equal(calls.at(-1)![ANNOTATION.appliedProfileGeneration], '7');
    stop.abort();
    await running;
  });

  test('a Lease taken by another worker stops the sessions and the writes at once', async () => {
    const { lease, calls } = scriptedLease([{ held: true, transitioned: true }, held, held, taken]);
    const r = runnerWith(lease);
    const stop = new AbortController();
    const running = r.runner.run(stop.signal);
    await until(() => calls.length >= 4);
    await until(() => r.stopped.length === 1);
    assert.equal(r.runner.holdsLease, false);
    assert.deepEqual(r.leaseChanges, [true, false]);
    assert.ok(r.events.includes('pause'), 'the writer stops writing');
    const count = r.added.length;
    await sleep(50);
    assert.equal(r.added.length, count, 'nothing more is handed to the writer');
    stop.abort();
    await running;
    assert.equal(r.events.includes('flush'), false, 'a worker that lost the Lease does not flush on exit');
  });

  test('renewals failing past 80 % of the lease duration count as a loss; a shorter outage does not', async () => {
    const outage = new Error('apiserver unavailable');
    // Duration 1 s, renew every 20 ms: two failures (~40 ms) are tolerated...
    const short = scriptedLease([{ held: true, transitioned: true }, outage, outage, held]);
    const a = runnerWith(short.lease);
    const stopA = new AbortController();
    const runningA = a.runner.run(stopA.signal);
    await until(() => short.calls.length >= 6);
    assert.equal(a.runner.holdsLease, true);
    assert.deepEqual(a.leaseChanges, [true]);
    stopA.abort();
    await runningA;
    // ...failures for longer than 800 ms are not.
    const long = scriptedLease([{ held: true, transitioned: true }, outage]);
    const b = runnerWith(long.lease);
    const stopB = new AbortController();
    const runningB = b.runner.run(stopB.signal);
    await until(() => b.leaseChanges.length === 2, 5000);
    assert.deepEqual(b.leaseChanges, [true, false]);
    assert.equal(b.stopped.length, 1, 'its session is stopped');
    stopB.abort();
    await runningB;
  });

  test('a graceful stop ends the sessions, flushes what is buffered and releases the Lease', async () => {
    const script = scriptedLease([{ held: true, transitioned: true }, held]);
    const r = runnerWith(script.lease);
    const stop = new AbortController();
    const running = r.runner.run(stop.signal);
    await until(() => r.added.length > 3);
    stop.abort();
    await running;
    assert.deepEqual(r.stopped, ['unit-1']);
    assert.ok(r.events.includes('flush'));
    assert.equal(script.released(), 1);
    assert.deepEqual(r.leaseChanges, [true, false]);
  });
});
