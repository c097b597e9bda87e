/**
 * Configuration backups of one device: runs a backup when the schedule or an on-demand request
 * says so, but only while this worker holds the device's Lease; fetches, normalizes, stores the
 * version if it changed, and reports each outcome (for the Lease annotations and metrics).
 * Backups of a device run one at a time; a trigger arriving during a run queues one more.
 */
import type { Device } from '@switchforge/platform/crd';
import { formatTime } from '@switchforge/platform/crd';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { BACKUP_ANNOTATION } from './annotations.js';
import { failureReason, type FetchedConfig } from './fetch.js';
import { backupInstruments, type BackupInstruments } from './metrics.js';
import { BackupScheduler, type DueBackup } from './schedule.js';
import type { BackupStore, BackupTrigger } from './store.js';

export interface BackupResult {
  /** `<namespace>/<name>`. */
  readonly device: string;
  readonly trigger: BackupTrigger;
  /** For annotation-triggered backups: the request value answered. */
  readonly request?: string;
  readonly outcome: 'stored' | 'unchanged' | 'failed';
  /** When the backup finished, RFC 3339. */
  readonly time: string;
  readonly durationMs: number;
  /** Of the configuration seen (outcome stored or unchanged). */
  readonly hash?: string;
  /** The stored version, or the unchanged latest one. */
  readonly id?: string;
  /** CamelCase failure reason (Unreachable, AuthFailed, Timeout, MalformedConfig, ...). */
  readonly reason?: string;
  readonly error?: string;
}

export interface BackupServiceOptions {
  readonly store: Pick<BackupStore, 'saveIfChanged'>;
  /** Fetches the running configuration; should give up when `signal` aborts. */
  readonly fetch: (device: Device, signal: AbortSignal) => Promise<FetchedConfig>;
  readonly onBackup?: (result: BackupResult) => void;
  /** Largest per-device offset added to scheduled times; tests set 0. */
  readonly maxJitterMs?: number;
}

export class BackupService {
  private device: Device | undefined;
  private started = false;
  private active = false;
  private readonly scheduler: BackupScheduler;
  private readonly queue: DueBackup[] = [];
  private draining: Promise<void> | undefined;
  private abort = new AbortController();
  private lastSuccess: { time: string; hash: string } | undefined;
  /** The last request value whose backup has finished (published; the scheduler dedupes on its own). */
  private handledRequest: string | undefined;
  private readonly instruments: BackupInstruments = backupInstruments();
  private readonly waiters: Array<{ trigger: BackupTrigger; resolve: (r: BackupResult) => void }> = [];

  constructor(private readonly options: BackupServiceOptions) {
    this.scheduler = new BackupScheduler({
      onDue: (due) => this.enqueue(due),
      ...(options.maxJitterMs !== undefined ? { maxJitterMs: options.maxJitterMs } : {}),
    });
  }

  private get name(): string {
    return `${this.device?.metadata.namespace}/${this.device?.metadata.name}`;
  }

  updateDevice(device: Device): void {
    this.device = device;
    // A new worker starts from what the operator recorded, until it has a backup of its own.
    const recorded = device.status?.lastBackup;
    if (!this.lastSuccess && recorded?.time && recorded.hash)
      this.lastSuccess = { time: recorded.time, hash: recorded.hash };
    this.scheduler.update(device);
  }

  /** Whether this worker holds the device's Lease; backups run only while it does. */
  setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    this.sync();
  }

  start(): void {
    this.started = true;
    this.sync();
  }

  /** Stops scheduling, gives up a running backup, and resolves once it has ended. */
  async stop(): Promise<void> {
    this.started = false;
    this.sync();
    await this.draining;
  }

  /** Runs a backup now (for an API call); resolves with its result, or a failure when inactive. */
  runNow(trigger: BackupTrigger = 'api'): Promise<BackupResult> {
    if (!this.started || !this.active || !this.device) {
      return Promise.resolve(
        this.failure({ trigger }, 0, 'NotActive', 'this worker does not hold the device lease'),
      );
    }
    return new Promise((resolve) => {
      this.waiters.push({ trigger, resolve });
      this.enqueue({ trigger });
    });
  }

  /** What the worker publishes on its Lease; the operator copies it into `status.lastBackup`. */
  leaseAnnotations(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.lastSuccess) {
      out[BACKUP_ANNOTATION.lastTime] = this.lastSuccess.time;
      out[BACKUP_ANNOTATION.lastHash] = this.lastSuccess.hash;
    }
    if (this.handledRequest) out[BACKUP_ANNOTATION.handled] = this.handledRequest;
    return out;
  }

  private sync(): void {
    const run = this.started && this.active;
    if (run) {
      if (this.abort.signal.aborted) this.abort = new AbortController();
      if (this.device) this.scheduler.update(this.device);
      this.scheduler.start();
      return;
    }
    this.scheduler.stop();
    this.queue.length = 0;
    this.abort.abort();
    for (const trigger of new Set(this.waiters.map((w) => w.trigger))) {
      this.settleWaiters(trigger, () =>
        this.failure({ trigger }, 0, 'NotActive', 'the device lease was lost or the worker is stopping'),
      );
    }
  }

  private settleWaiters(trigger: BackupTrigger, result: () => BackupResult): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.trigger === trigger) this.waiters.splice(i, 1)[0]!.resolve(result());
    }
  }

  private enqueue(due: DueBackup): void {
    // One of each trigger waiting is enough: a later request value replaces an earlier one.
    const i = this.queue.findIndex((q) => q.trigger === due.trigger);
    if (i >= 0) this.queue[i] = due;
    else this.queue.push(due);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    for (let due = this.queue.shift(); due; due = this.queue.shift()) {
      if (!this.started || !this.active || !this.device) break;
      const result = await this.runOnce(due, this.device, this.abort.signal);
      this.report(result);
    }
  }

  private async runOnce(due: DueBackup, device: Device, signal: AbortSignal): Promise<BackupResult> {
    const started = performance.now();
    try {
      const fetched = await this.options.fetch(device, signal);
      // Loaded with the first backup: the XML parser is no part of collecting.
      const { normalizeConfig } = await import('./normalize.js');
      const canonical = normalizeConfig(fetched);
      // The Lease may have gone while fetching: a stale holder must not write.
      if (signal.aborted)
        throw new Error('backup abandoned: the device lease was lost or the worker is stopping');
      const saved = await this.options.store.saveIfChanged(
        this.name,
        canonical.content,
        canonical.format,
        due.trigger,
      );
      return {
        device: this.name,
        trigger: due.trigger,
        ...(due.request ? { request: due.request } : {}),
        outcome: saved.stored ? 'stored' : 'unchanged',
        time: formatTime(new Date()),
        durationMs: performance.now() - started,
        hash: saved.hash,
        id: saved.id,
      };
    } catch (e) {
      const reason = signal.aborted ? 'Abandoned' : failureReason(e);
      return this.failure(due, performance.now() - started, reason, errorMessage(e));
    }
  }

  private failure(due: DueBackup, durationMs: number, reason: string, error: string): BackupResult {
    return {
      device: this.name,
      trigger: due.trigger,
      ...(due.request ? { request: due.request } : {}),
      outcome: 'failed',
      time: formatTime(new Date()),
      durationMs,
      reason,
      error,
    };
  }

  private report(result: BackupResult): void {
    const attrs = { device: result.device, trigger: result.trigger, outcome: result.outcome };
    this.instruments.runs.add(1, result.reason ? { ...attrs, reason: result.reason } : attrs);
    this.instruments.duration.record(result.durationMs / 1000, attrs);
    if (result.outcome === 'stored')
      this.instruments.stored.add(1, { device: result.device, trigger: result.trigger });
    if (result.hash) this.lastSuccess = { time: result.time, hash: result.hash };
    // An abandoned request stays open: whoever holds the lease next answers it.
    if (result.request && result.reason !== 'Abandoned') {
      this.scheduler.markHandled(result.request);
      this.handledRequest = result.request;
    }
    if (result.outcome === 'failed') {
      log.warn('configuration backup failed', {
        device: result.device,
        trigger: result.trigger,
        reason: result.reason,
        error: result.error,
      });
    } else {
      log.info('configuration backup done', {
        device: result.device,
        trigger: result.trigger,
        outcome: result.outcome,
        hash: result.hash,
      });
    }
    this.settleWaiters(result.trigger, () => result);
    try {
      this.options.onBackup?.(result);
    } catch (e) {
      log.warn('backup result handler failed', { error: errorMessage(e) });
    }
  }
}
