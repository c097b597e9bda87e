/**
 * When a device's backups are due: the cron schedule of its spec (UTC, jittered per device) and
 * on-demand requests through the `switchforge.io/backup-requested` annotation.
 */
import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import type { Device } from '@switchforge/platform/crd';
import { InputError } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { BACKUP_ANNOTATION } from './annotations.js';
import type { BackupTrigger } from './store.js';

export const DEFAULT_BACKUP_SCHEDULE = '0 3 * * *';
export const DEFAULT_MAX_JITTER_MS = 15_000;
/** setTimeout's ceiling (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The first time strictly after `after` that the cron expression (UTC) names. */
export function nextRun(schedule: string, after: Date): Date {
  // cron-parser reads an empty expression as "every minute"; an empty field is a mistake.
  if (schedule.trim() === '') throw new InputError('spec.backup.schedule is empty', 'InvalidSchedule');
  try {
    return CronExpressionParser.parse(schedule, { currentDate: after, tz: 'UTC', strict: false })
      .next()
      .toDate();
  } catch (e) {
    throw new InputError(
      `spec.backup.schedule ${JSON.stringify(schedule)} is not a valid cron expression: ${(e as Error).message}`,
      'InvalidSchedule',
      { cause: e },
    );
  }
}

/** A stable offset per device in [0, maxMs), so devices sharing a schedule do not all start at once. */
export function jitterMs(device: string, maxMs = DEFAULT_MAX_JITTER_MS): number {
  if (maxMs <= 0) return 0;
  return createHash('sha256').update(device).digest().readUInt32BE(0) % maxMs;
}

export interface DueBackup {
  readonly trigger: BackupTrigger;
  /** For `annotation`: the request value being answered. */
  readonly request?: string;
}

export interface BackupSchedulerOptions {
  readonly onDue: (due: DueBackup) => void;
  readonly maxJitterMs?: number;
  readonly now?: () => Date;
}

function requestTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Fires `onDue` at each scheduled time and once per new request value, while started. A request
 * is new when its time is after the last handled (or dispatched) request's and after the last
 * backup recorded in the Device status (so a new worker does not redo what its predecessor did).
 */
export class BackupScheduler {
  private device: Device | undefined;
  private timer: NodeJS.Timeout | undefined;
  private armedFor: string | undefined;
  private running = false;
  /** Requests answered (told through markHandled once their backup ran). */
  private handledValue: string | undefined;
  /** The request handed to onDue while started; forgotten on stop, so an unfinished one is asked again. */
  private dispatchedValue: string | undefined;
  private warnedInvalid: string | undefined;

  constructor(private readonly options: BackupSchedulerOptions) {}

  /** The latest request value whose backup ran (as told through markHandled). */
  get handled(): string | undefined {
    return this.handledValue;
  }

  markHandled(value: string): void {
    const t = requestTime(value);
    const current = requestTime(this.handledValue);
    if (t !== undefined && (current === undefined || t > current)) this.handledValue = value;
  }

  update(device: Device): void {
    this.device = device;
    if (!this.running) return;
    this.arm();
    this.checkRequest();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm();
    this.checkRequest();
  }

  stop(): void {
    this.running = false;
    this.dispatchedValue = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }

  /** `<namespace>/<name>`: the jitter's seed and the log field. */
  private get name(): string {
    return `${this.device?.metadata.namespace}/${this.device?.metadata.name}`;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private checkRequest(): void {
    const value = this.device?.metadata.annotations?.[BACKUP_ANNOTATION.requested];
    if (!value) return;
    const t = requestTime(value);
    if (t === undefined) {
      if (this.warnedInvalid !== value)
        log.warn('ignoring a backup request that is not an RFC 3339 time', { device: this.name, value });
      this.warnedInvalid = value;
      return;
    }
    const handled = Math.max(
      requestTime(this.handledValue) ?? -Infinity,
      requestTime(this.dispatchedValue) ?? -Infinity,
    );
    const lastBackup = requestTime(this.device?.status?.lastBackup?.time);
    if (t <= handled || (lastBackup !== undefined && t <= lastBackup)) return;
    this.dispatchedValue = value;
    this.options.onDue({ trigger: 'annotation', request: value });
  }

  /** (Re-)arms the timer for the next scheduled run; unchanged schedules keep their timer. */
  private arm(): void {
    const backup = this.device?.spec.backup;
    const schedule = backup?.enabled === false ? undefined : (backup?.schedule ?? DEFAULT_BACKUP_SCHEDULE);
    // Unchanged (armed, off, or found unusable and already logged): keep things as they are.
    if (schedule === this.armedFor) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = schedule;
    if (schedule === undefined) return;
    let base: Date;
    try {
      base = nextRun(schedule, this.now());
    } catch (e) {
      log.warn('backup schedule not usable; scheduled backups are off', {
        device: this.name,
        error: (e as Error).message,
      });
      return;
    }
    this.armAt(schedule, base);
  }

  private armAt(schedule: string, base: Date): void {
    const jitter = jitterMs(this.name, this.options.maxJitterMs);
    const at = base.getTime() + jitter;
    const wait = at - this.now().getTime();
    this.timer = setTimeout(
      () => {
        if (!this.running || this.armedFor !== schedule) return;
        if (wait > MAX_TIMER_MS) return this.armAt(schedule, base);
        // After the cron time just served (never served twice); after a long stall, no catch-up burst.
        const after = Math.max(base.getTime(), this.now().getTime() - jitter);
        this.armAt(schedule, nextRun(schedule, new Date(after)));
        this.options.onDue({ trigger: 'schedule' });
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }
}
