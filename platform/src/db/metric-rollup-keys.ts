import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Advisory lock keys of the metric rollups. Writers hold the writers lock shared (in the samples
 * insert trigger) until they commit; the refresh takes it exclusively only to advance the
 * watermark. The refresh lock makes one API replica at a time the refresher. The refresh and
 * maintenance locks are taken per schema (the key with `hashtext(current_schema())`), so
 * installs or test runs sharing a database in schemas of their own do not wait on each other.
 */
export const ROLLUP_WRITERS_LOCK = 7364002;
export const ROLLUP_REFRESH_LOCK = 7364003;
/** One process at a time creates and drops day partitions. */
export const PARTITION_MAINTENANCE_LOCK = 7364004;
/** The rollup's resolution: series queries use it for buckets that are whole multiples of it. */
export const ROLLUP_SECONDS = 60;

/**
 * Runs `body` on one connection of `db` while holding the session advisory lock `key` for the
 * current schema; `undefined` without running it when another session holds the lock.
 */
export async function withSchemaLock<T>(
  db: DataSource,
  key: number,
  body: (q: QueryRunner) => Promise<T>,
): Promise<T | undefined> {
  const q = db.createQueryRunner();
  await q.connect();
  try {
    const [lock] = (await q.query(`SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS ok`, [
      key,
    ])) as Array<{ ok: boolean }>;
    if (!lock?.ok) return undefined;
    try {
      return await body(q);
    } finally {
      await q.query(`SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, [key]);
    }
  } finally {
    await q.release();
  }
}
