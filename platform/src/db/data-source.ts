import { DataSource } from 'typeorm';
import { AudioJobEntity, AudioResultEntity } from './entities/audio-job.js';
import { ConfigBackupEntity } from './entities/config-backup.js';
import { InitialSchema1764000000000 } from './migrations/1764000000000-InitialSchema.js';
import { SeriesIndex1764100000000 } from './migrations/1764100000000-SeriesIndex.js';
import { SeriesDictionary1764200000000 } from './migrations/1764200000000-SeriesDictionary.js';
import { Presence1764300000000 } from './migrations/1764300000000-Presence.js';

export const entities = [ConfigBackupEntity, AudioJobEntity, AudioResultEntity];
/** In order; each is a class so that the bundle needs no glob loading at run time. */
export const migrations = [
  InitialSchema1764000000000,
  SeriesIndex1764100000000,
  SeriesDictionary1764200000000,
  Presence1764300000000,
];

export interface DatabaseOptions {
  url: string;
  /** A PostgreSQL schema to work in (tests isolate by schema); `public` by default. */
  schema?: string;
  poolSize?: number;
}

/** The ORM connection for cold paths (backups, jobs, results). Hot ingest uses `pg` directly. */
export function createDataSource(options: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    // Without a schema, tables resolve through the connection's search_path (which a URL's
    // `options=-c search_path=...` may set).
    ...(options.schema ? { schema: options.schema } : {}),
    entities,
    migrations,
    migrationsTableName: 'switchforge_migrations',
    migrationsTransactionMode: 'each',
    extra: {
      max: options.poolSize ?? 5,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    },
  });
}

/** Applies every pending migration; safe to call from several processes at once. */
export async function migrate(options: DatabaseOptions): Promise<string[]> {
  const ds = createDataSource(options);
  await ds.initialize();
  // A session-level advisory lock, held on one dedicated connection, serialises concurrent
  // migrators (api and workers starting together).
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(7364001)');
    if (options.schema) await lock.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    const applied = await ds.runMigrations();
    return applied.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock(7364001)').catch(() => undefined);
    await lock.release();
    await ds.destroy();
  }
}

/** Reverts the most recent migration (used by tests and by hand when rolling back a release). */
export async function revertLastMigration(options: DatabaseOptions): Promise<void> {
  const ds = createDataSource(options);
  await ds.initialize();
  try {
    await ds.undoLastMigration();
  } finally {
    await ds.destroy();
  }
}
