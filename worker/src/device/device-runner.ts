import { metrics } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatTime, type Device } from '@switchforge/platform/crd';
import { ANNOTATION } from '@switchforge/platform/device-worker';
import type { LeaseLock } from '@switchforge/platform/lease';
import { errorMessage, InputError } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { Backoff } from '@switchforge/platform/backoff';
import type { CollectionPlanner, CollectionUnit } from './collection-plan.js';
import type { MemoryGuard } from './memory-guard.js';
import type { MetricWriter } from './metric-writer.js';
import { CollectorError, type Collector, type Sample, type SessionState } from './sample.js';

const meter = metrics.getMeter('switchforge-worker');
const updatesReceived = meter.createCounter('switchforge.worker.updates.received', {
  description: 'Updates (leaves) received from the switch',
});
const malformedUpdates = meter.createCounter('switchforge.worker.updates.malformed', {
  description: 'Replies or updates from the switch that could not be decoded and were skipped',
});
const reconnects = meter.createCounter('switchforge.worker.session.reconnects', {
  description: 'Sessions to the switch re-established after a failure',
});
const sessionUp = meter.createObservableGauge('switchforge.worker.session.up', {
  description: '1 while every collection unit of the device is connected, else 0',
});
const leaseHeld = meter.createObservableGauge('switchforge.worker.lease.held', {
  description: '1 while this worker holds the device collector lease',
});

interface RunningUnit {
  unit: CollectionUnit;
  abort: AbortController;
  done: Promise<void>;
  state: SessionState;
}

export interface DeviceRunnerOptions {
  device: string;
  lease: Pick<LeaseLock, 'tryAcquireOrRenew' | 'release' | 'options'>;
  renewIntervalMs: number;
  planner: CollectionPlanner;
  writer: RunnerWriter;
  /** Extra labels from the Device spec added to every sample. */
  extraLabels?: () => Readonly<Record<string, string>>;
  /** More annotations published on the Lease with the session state (configuration backups). */
  leaseAnnotations?: () => Readonly<Record<string, string>>;
  /** Called when this worker gains or loses the Lease. */
  onLeaseChange?: (held: boolean) => void;
  /** Outputs besides PostgreSQL (spec.outputs): given every sample the writer is given. */
  outputs?: { record(samples: readonly Sample[]): void };
  /** The memory watermark: while it sheds, the Device is Degraded/MemoryPressure. */
  memory?: Pick<MemoryGuard, 'shedding' | 'reading'>;
}

/** What the runner needs of the MetricWriter. */
export type RunnerWriter = Pick<
  MetricWriter,
  | 'add'
  | 'whenDrained'
  | 'pause'
  | 'resume'
  | 'flush'
  | 'dropped'
  | 'droppedRecently'
  | 'droppedUnderPressure'
  | 'lastDropCause'
>;

/**
 * Drives one device: takes the per-device Lease, runs its collection units with reconnect
 * backoff, feeds the writer, publishes session state on the Lease, and stops writing at once
 * if the Lease is lost. `updateDevice` applies a spec change by restarting only changed units.
 */
export class DeviceRunner {
  private readonly units = new Map<string, RunningUnit>();
  private device: Device | undefined;
  private holding = false;
  private received = 0;
  private malformed = 0;
  private lastMalformedAt = 0;
  private lastSampleNs = 0n;
  private rateWindow = { at: Date.now(), received: 0, rate: 0 };
  /** Why the Device cannot be planned into sessions (a Secret to fix), until it can. */
  private planFailure: { reason: string; message: string } | undefined;

  constructor(private readonly options: DeviceRunnerOptions) {
    sessionUp.addCallback((r) => r.observe(this.connected ? 1 : 0, { device: options.device }));
    leaseHeld.addCallback((r) => r.observe(this.holding ? 1 : 0, { device: options.device }));
  }

  get holdsLease(): boolean {
    return this.holding;
  }

  get connected(): boolean {
    return this.units.size > 0 && [...this.units.values()].every((u) => u.state.state === 'connected');
  }

  updateDevice(device: Device): void {
    const before = appliedGeneration(this.device);
    this.device = device;
    if (this.holding) this.syncUnits();
    // A profile edit rolls out a few Devices at a time, each waiting for the one before to say
    // it applied the edit: say so now rather than at the next renewal.
    if (this.holding && appliedGeneration(device) !== before) this.renewNow?.abort();
  }

  /** Cuts the wait between two renewals short. */
  private renewNow: AbortController | undefined;

  /** Runs until `signal` aborts; then stops the sessions, flushes, and releases the Lease. */
  async run(signal: AbortSignal): Promise<void> {
    const { lease, renewIntervalMs, writer } = this.options;
    let lastRenewOk = Date.now();
    while (!signal.aborted) {
      try {
        const outcome = await lease.tryAcquireOrRenew(this.leaseAnnotations());
        lastRenewOk = Date.now();
        if (outcome.held && !this.holding) {
          log.info('collector lease acquired', { device: this.options.device });
          this.holding = true;
          this.options.onLeaseChange?.(true);
          writer.resume();
          this.syncUnits();
        } else if (!outcome.held && this.holding) {
          this.loseLease(`lease taken by ${outcome.holder}`);
        }
      } catch (e) {
        log.warn('lease renewal failed', { device: this.options.device, error: errorMessage(e) });
        const deadline = lease.options.durationSeconds * 1000 * 0.8;
        if (this.holding && Date.now() - lastRenewOk > deadline)
          this.loseLease('could not renew the lease in time');
      }
      this.renewNow = new AbortController();
      await sleep(this.holding ? renewIntervalMs : renewIntervalMs / 2, undefined, {
        signal: AbortSignal.any([signal, this.renewNow.signal]),
      }).catch(() => undefined);
    }
    await this.stopUnits([...this.units.keys()]);
    if (this.holding) {
      await writer.flush();
      await lease
        .release()
        .catch((e: unknown) => log.warn('lease release failed', { error: errorMessage(e) }));
      this.holding = false;
      this.options.onLeaseChange?.(false);
    }
  }

  private loseLease(why: string): void {
    log.warn('collector lease lost: stopping collection and writes', { device: this.options.device, why });
    this.holding = false;
    this.options.onLeaseChange?.(false);
    this.options.writer.pause();
    void this.stopUnits([...this.units.keys()]);
  }

  private syncUnits(): void {
    if (!this.device) return;
    let planned: CollectionUnit[];
    try {
      planned = this.options.planner(this.device);
      this.planFailure = undefined;
    } catch (e) {
      // Nothing to connect with until the user fixes the Device or its Secrets; the next
      // updateDevice plans again. Sessions planned from the old input stop.
      const reason = e instanceof InputError ? e.reason : 'ConfigInvalid';
      this.planFailure = { reason, message: errorMessage(e) };
      log.warn('cannot collect', { device: this.options.device, reason, error: errorMessage(e) });
      planned = [];
    }
    const wanted = new Map(planned.map((u) => [u.key, u]));
    const removed = [...this.units.keys()].filter((k) => !wanted.has(k));
    void this.stopUnits(removed);
    for (const [key, unit] of wanted) if (!this.units.has(key)) this.startUnit(unit);
  }

  private startUnit(unit: CollectionUnit): void {
    const abort = new AbortController();
    const running: RunningUnit = { unit, abort, state: { state: 'connecting' }, done: Promise.resolve() };
    running.done = this.superviseUnit(running);
    this.units.set(unit.key, running);
  }

  private async stopUnits(keys: string[]): Promise<void> {
    const stopping = keys.map((k) => this.units.get(k)).filter((u): u is RunningUnit => u !== undefined);
    for (const u of stopping) {
      this.units.delete(u.unit.key);
      u.abort.abort();
    }
    await Promise.all(stopping.map((u) => u.done));
  }

  /** One unit's life: run the collector, and after a failure reconnect with backoff and jitter. */
  private async superviseUnit(running: RunningUnit): Promise<void> {
    const backoff = new Backoff({ baseMs: 500, capMs: 30_000 });
    const { signal } = running.abort;
    // One collector per unit, reused across reconnects, closed when the unit goes.
    const collector = running.unit.create();
    try {
      await this.collectUntilStopped(running, collector, backoff, signal);
    } finally {
      collector.close?.();
    }
  }

  private async collectUntilStopped(
    running: RunningUnit,
    collector: Collector,
    backoff: Backoff,
    signal: AbortSignal,
  ): Promise<void> {
    let failedBefore = false;
    while (!signal.aborted) {
      let connectedAt = 0;
      try {
        await collector.run(
          {
            onSamples: (samples) => this.onSamples(samples),
            whenDrained: () => this.options.writer.whenDrained(),
            onState: (state) => {
              running.state = state;
              if (state.state === 'connected') {
                connectedAt = Date.now();
                if (failedBefore) reconnects.add(1, { device: this.options.device });
              }
            },
            onMalformed: (error) => {
              this.malformed++;
              this.lastMalformedAt = Date.now();
              malformedUpdates.add(1, { device: this.options.device });
              log.warn('malformed update skipped', { device: this.options.device, error: error.message });
            },
          },
          signal,
        );
        if (signal.aborted) return;
        // A collector that returns without being stopped (ONCE mode, server closed): run again.
        running.state = { state: 'connecting' };
      } catch (e) {
        if (signal.aborted) return;
        const reason = e instanceof CollectorError ? e.reason : 'Unreachable';
        running.state = { state: 'failed', reason, message: errorMessage(e) };
        log.warn('session failed', {
          device: this.options.device,
          unit: running.unit.key,
          reason,
          error: errorMessage(e),
        });
      }
      failedBefore = true;
      // A session that stayed up for a while earns a fresh backoff.
      if (connectedAt && Date.now() - connectedAt > 30_000) backoff.reset();
      await sleep(backoff.next(), undefined, { signal }).catch(() => undefined);
    }
  }

  /** False when the writer is over its high-water mark: the collector pauses reading. */
  private onSamples(samples: readonly Sample[]): boolean {
    if (!this.holding || samples.length === 0) return true;
    this.received += samples.length;
    updatesReceived.add(samples.length, { device: this.options.device });
    const extra = this.options.extraLabels?.();
    const out =
      extra && Object.keys(extra).length > 0
        ? samples.map((s) => ({ ...s, labels: { ...extra, ...s.labels } }))
        : samples;
    for (const s of samples) if (s.timestampNs > this.lastSampleNs) this.lastSampleNs = s.timestampNs;
    this.options.outputs?.record(out);
    return this.options.writer.add(out);
  }

  /** Session state as Lease annotations: the operator turns them into Device conditions. */
  private leaseAnnotations(): Record<string, string> {
    const now = Date.now();
    const elapsed = (now - this.rateWindow.at) / 1000;
    if (elapsed >= 1) {
      this.rateWindow = {
        at: now,
        received: this.received,
        rate: (this.received - this.rateWindow.received) / elapsed,
      };
    }
    const states = [...this.units.values()].map((u) => u.state);
    const failed: { reason: string; message: string } | undefined =
      this.planFailure ??
      states.find((s): s is Extract<SessionState, { state: 'failed' }> => s.state === 'failed');
    const session =
      !this.holding || (states.length === 0 && !this.planFailure)
        ? 'connecting'
        : failed
          ? 'failed'
          : this.connected
            ? 'connected'
            : 'connecting';
    const writer = this.options.writer;
    const memory = this.options.memory;
    const reading = memory?.reading;
    const degraded =
      memory?.shedding || (writer.droppedRecently() && writer.lastDropCause === 'memory_pressure')
        ? `MemoryPressure: ${writer.droppedUnderPressure} updates shed since start near the memory limit` +
          (reading
            ? ` (${reading.source} ${Math.round(reading.usedBytes / 2 ** 20)} of ${Math.round(reading.limitBytes / 2 ** 20)} MiB)`
            : '')
        : writer.droppedRecently()
          ? `UpdatesDropped: ${writer.dropped} updates dropped since start because the database was unavailable`
          : now - this.lastMalformedAt < 60_000
            ? `MalformedUpdates: ${this.malformed} malformed updates skipped since start`
            : '';
    const annotations: Record<string, string> = {
      [ANNOTATION.sessionState]: session,
      [ANNOTATION.reason]: failed?.reason ?? '',
      [ANNOTATION.message]: (failed?.message ?? '').slice(0, 512),
      [ANNOTATION.updatesPerSecond]: this.rateWindow.rate.toFixed(1),
      [ANNOTATION.degraded]: degraded,
      [ANNOTATION.appliedProfileGeneration]: appliedGeneration(this.device) ?? '',
    };
    if (this.lastSampleNs > 0n) {
      annotations[ANNOTATION.lastSampleTime] = formatTime(new Date(Number(this.lastSampleNs / 1_000_000n)));
    }
    return { ...this.options.leaseAnnotations?.(), ...annotations };
  }
}

/** The profile generation a Device's merged spec came from, as the Lease annotation carries it. */
function appliedGeneration(device: Device | undefined): string | undefined {
  const generation = device?.status?.profile?.generation;
  return generation === undefined ? undefined : String(generation);
}
