import type { DataSource, Repository } from 'typeorm';
import { structuredPatch, createTwoFilesPatch } from 'diff';
import { ConfigBackupEntity, type ConfigBackup } from '@switchforge/platform/db';
import { InputError, NotFoundError } from '@switchforge/platform/errors';

export interface BackupPage {
  items: ConfigBackup[];
  hasNextPage: boolean;
}

export interface ConfigDiff {
  from: ConfigBackup;
  to: ConfigBackup;
  patch: string;
  hunks: { oldStart: number; oldLines: number; newStart: number; newLines: number; lines: string[] }[];
  additions: number;
  deletions: number;
}

/** Stored configuration versions (newest first, keyset-paged by id) and the diff of two. */
export class ConfigBackups {
  private readonly repo: Repository<ConfigBackup>;

  constructor(db: DataSource) {
    this.repo = db.getRepository(ConfigBackupEntity);
  }

  async list(device: string, first: number, afterId?: string): Promise<BackupPage> {
    const q = this.repo
      .createQueryBuilder('b')
      .where('b.device = :device', { device })
      .orderBy('b.id', 'DESC')
      .take(first + 1);
    if (afterId !== undefined) q.andWhere('b.id < :after', { after: afterId });
    const rows = await q.getMany();
    return { items: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  async get(device: string, id: string): Promise<ConfigBackup> {
    if (!/^\d{1,18}$/.test(id)) throw new InputError(`backup id ${JSON.stringify(id)} is not a number`);
    const b = await this.repo.findOneBy({ device, id });
    if (!b) throw new NotFoundError(`no backup ${id} of ${device}`);
    return b;
  }

  async diff(device: string, fromId: string, toId: string, context: number): Promise<ConfigDiff> {
    if (!Number.isInteger(context) || context < 0 || context > 100)
      throw new InputError('context must be 0..100');
    const [from, to] = await Promise.all([this.get(device, fromId), this.get(device, toId)]);
    const name = (b: ConfigBackup) => `${device}@${b.id}`;
    const structured = structuredPatch(name(from), name(to), from.content, to.content, '', '', { context });
    const patch = createTwoFilesPatch(
      name(from),
      name(to),
      from.content,
      to.content,
      from.takenAt.toISOString(),
      to.takenAt.toISOString(),
      { context },
    );
    let additions = 0;
    let deletions = 0;
    for (const h of structured.hunks) {
      for (const l of h.lines) {
        if (l.startsWith('+')) additions++;
        else if (l.startsWith('-')) deletions++;
      }
    }
    return { from, to, patch: patch ?? '', hunks: structured.hunks, additions, deletions };
  }
}
