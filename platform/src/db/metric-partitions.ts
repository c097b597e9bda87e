import type { DataSource, QueryRunner } from 'typeorm';
import { PARTITION_MAINTENANCE_LOCK, withSchemaLock } from './metric-rollup-keys.js';

export interface PartitionMaintenanceOptions {
  /** Day partitions kept ready ahead of today, so no day's samples fall into the default one. */
  daysAhead?: number;
  /** Samples and rollups older than this many days are dropped; undefined keeps everything. */
  retentionDays?: number;
}

export interface PartitionMaintenanceResult {
  /** False when another process held the maintenance lock (and did the work). */
  ran: boolean;
  created: number;
  /** Day partitions dropped by retention, oldest first. */
  dropped: string[];
}

const DAY_MS = 86_400_000;
const PARTITION_NAME = /^metric_samples_\d{8}$/;

/**
 * Keeps `metric_samples` partitioned ahead of time and within its retention. The first schema
 * created a week of day partitions; without this, samples from later days would all land in the
 * default partition. Retention drops whole day partitions (cheap, no vacuum debt) and deletes
 * what the default partition and the rollup hold beyond it. With TimescaleDB the hypertable makes
 * its own chunks and `drop_chunks` applies the retention.
 */
export async function maintainMetricPartitions(
  db: DataSource,
  options: PartitionMaintenanceOptions = {},
): Promise<PartitionMaintenanceResult> {
  return (
    (await withSchemaLock(db, PARTITION_MAINTENANCE_LOCK, (q) => maintain(q, options))) ?? {
      ran: false,
      created: 0,
      dropped: [],
    }
  );
}

async function maintain(
  q: QueryRunner,
  options: PartitionMaintenanceOptions,
): Promise<PartitionMaintenanceResult> {
  const hypertable = await isHypertable(q);
  let created = 0;
  if (!hypertable) {
    const days = (options.daysAhead ?? 7) + 2;
    const [row] = (await q.query(
      `SELECT switchforge_ensure_metric_partitions(current_date - 1, $1) AS created`,
      [days],
    )) as Array<{ created: number }>;
    created = row?.created ?? 0;
  }
  const dropped: string[] = [];
  if (options.retentionDays !== undefined) {
    const cutoff = new Date(Date.now() - options.retentionDays * DAY_MS);
    if (hypertable) {
      await q.query(`SELECT drop_chunks('metric_samples', older_than => $1::timestamptz)`, [cutoff]);
    } else {
      for (const { name, upper } of await dayPartitions(q)) {
        if (upper.getTime() <= cutoff.getTime()) {
          await q.query(`DROP TABLE IF EXISTS "${name}"`);
          dropped.push(name);
        }
      }
      await q.query(`DELETE FROM metric_samples_default WHERE ts < $1`, [cutoff]);
    }
    await q.query(`DELETE FROM metric_rollup_1m WHERE bucket < $1`, [cutoff]);
  }
  return { ran: true, created, dropped };
}

/** The day partitions with the end of the range each holds (read from the catalog, any time zone). */
async function dayPartitions(q: QueryRunner): Promise<Array<{ name: string; upper: Date }>> {
  const rows = (await q.query(
    `SELECT c.relname AS name,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS upper
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'metric_samples'::regclass
      ORDER BY c.relname`,
  )) as Array<{ name: string; upper: Date | null }>;
  return rows.flatMap((r) =>
    PARTITION_NAME.test(r.name) && r.upper ? [{ name: r.name, upper: r.upper }] : [],
  );
}

async function isHypertable(q: QueryRunner): Promise<boolean> {
  const ext = (await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`)) as unknown[];
  if (ext.length === 0) return false;
  const rows = (await q.query(
    `SELECT 1 FROM timescaledb_information.hypertables
      WHERE hypertable_name = 'metric_samples' AND hypertable_schema = current_schema()`,
  )) as unknown[];
  return rows.length > 0;
}
