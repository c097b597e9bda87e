/**
 * Configuration versions in PostgreSQL (table `config_backups`, TypeORM): a version is stored
 * only when its hash differs from the device's latest one, decided under a per-device advisory
 * lock so two workers during a Lease hand-over cannot both store the same change.
 */
import { createTwoFilesPatch } from 'diff';
import type { DataSource } from 'typeorm';
import { ConfigBackupEntity, type ConfigBackup } from '@switchforge/platform/db';
import { NotFoundError } from '@switchforge/platform/errors';
import { contentHash, type ConfigFormat } from './normalize.js';

export type BackupTrigger = 'schedule' | 'annotation' | 'api';

export type ConfigBackupSummary = Omit<ConfigBackup, 'content'>;

export interface SaveResult {
  /** False when the latest stored version already had this content. */
  readonly stored: boolean;
  readonly hash: string;
  /** The new version's id, or the unchanged latest version's. */
  readonly id: string;
  readonly takenAt: Date;
}

export interface ConfigDiff {
  readonly from: ConfigBackupSummary;
  readonly to: ConfigBackupSummary;
  /** Unified diff, `from` to `to`; no hunks when the contents are equal. */
  readonly patch: string;
}

export interface ListOptions {
  /** Newest first; default 50, at most 1000. */
  readonly limit?: number;
  /** Only versions taken before this time. */
  readonly before?: Date;
  /** Only versions older than this id (a cursor: the last id of the previous page). */
  readonly beforeId?: string;
}

/** Two-key advisory locks live apart from the one-key lock `migrate()` takes. */
const LOCK_CLASS = 7364002;

const SUMMARY_COLUMNS = ['id', 'device', 'takenAt', 'contentHash', 'sizeBytes', 'format', 'trigger'] as const;

export class BackupStore {
  constructor(private readonly db: DataSource) {}

  /** `content` should be canonical (see normalizeConfig): the hash is taken of it as given. */
  async saveIfChanged(
    device: string,
    content: string,
    format: ConfigFormat,
    trigger: BackupTrigger,
  ): Promise<SaveResult> {
    const hash = contentHash(content);
    return this.db.transaction(async (m) => {
      // Held to the end of the transaction: the read of the latest and the insert are one step.
      await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, device]);
      const repo = m.getRepository(ConfigBackupEntity);
      const latest = await repo.findOne({
        where: { device },
        order: { id: 'DESC' },
        select: { id: true, contentHash: true, takenAt: true },
      });
      if (latest && latest.contentHash === hash) {
        return { stored: false, hash, id: String(latest.id), takenAt: latest.takenAt };
      }
      const saved = await repo.save({
        device,
        contentHash: hash,
        content,
        sizeBytes: Buffer.byteLength(content, 'utf8'),
        format,
        trigger,
      });
      return { stored: true, hash, id: String(saved.id), takenAt: saved.takenAt };
    });
  }

  async list(device: string, options: ListOptions = {}): Promise<ConfigBackupSummary[]> {
    const q = this.db
      .getRepository(ConfigBackupEntity)
      .createQueryBuilder('b')
      .select(SUMMARY_COLUMNS.map((c) => `b.${c}`))
      .where('b.device = :device', { device })
      .orderBy('b.id', 'DESC')
      .limit(Math.min(Math.max(options.limit ?? 50, 1), 1000));
    if (options.before) q.andWhere('b.takenAt < :before', { before: options.before });
    if (options.beforeId) q.andWhere('b.id < :beforeId', { beforeId: options.beforeId });
    return (await q.getMany()).map((b) => ({ ...b, id: String(b.id) }));
  }

  async get(id: string): Promise<ConfigBackup | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const found = await this.db.getRepository(ConfigBackupEntity).findOneBy({ id });
    return found ? { ...found, id: String(found.id) } : undefined;
  }

  /** The change from version `fromId` to version `toId`; throws NotFoundError for an unknown id. */
  async diff(fromId: string, toId: string): Promise<ConfigDiff> {
    const [a, b] = await Promise.all([this.get(fromId), this.get(toId)]);
    if (!a) throw new NotFoundError(`configuration backup ${fromId} not found`);
    if (!b) throw new NotFoundError(`configuration backup ${toId} not found`);
    const patch = createTwoFilesPatch(
      `${a.device}@${a.id}`,
      `${b.device}@${b.id}`,
      a.content,
      b.content,
      a.takenAt.toISOString(),
      b.takenAt.toISOString(),
      { context: 3 },
    );
    const { content: _a, ...from } = a;
    const { content: _b, ...to } = b;
    return { from, to, patch };
  }
}
