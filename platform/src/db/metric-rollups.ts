import type { DataSource, QueryRunner } from 'typeorm';
import { maintenanceMetrics } from './maintenance-metrics.js';
import { maintainMetricPartitions, type PartitionMaintenanceOptions } from './metric-partitions.js';
import {
  ROLLUP_REFRESH_LOCK,
  ROLLUP_SECONDS,
  ROLLUP_WRITERS_LOCK,
  withSchemaLock,
} from './metric-rollup-keys.js';

export interface RollupRefreshOptions {
  /** Minutes newer than now − lag stay raw: samples still arriving there are not late. */
  lagSeconds?: number;
  /** Most time one advance of the watermark covers (the first refresh of an old table walks). */
  maxStepSeconds?: number;
  /** Stop advancing after this long; the next refresh goes on. */
  budgetMs?: number;
}

export interface RollupRefreshResult {
  /** False when another process holds the refresh lock and did the work. */
  ran: boolean;
  watermark: Date | null;
  /** Minute ranges re-aggregated (advances and invalidations). */
  ranges: number;
}

const STEP_MS = ROLLUP_SECONDS * 1000;
const floorStep = (ms: number) => Math.floor(ms / STEP_MS) * STEP_MS;

/**
 * One refresh of `metric_rollup_1m`: advances the watermark to whole minutes older than the lag,
 * recording each advanced range as an invalidation of every series, then re-aggregates every
 * invalidated range (those and the late rows writers recorded). Advancing and re-aggregating are
 * separate transactions, so a crash in between leaves an invalidation that queries read raw and
 * the next refresh processes. One process at a time refreshes (a session advisory lock).
 */
export async function refreshMetricRollups(
  db: DataSource,
  options: RollupRefreshOptions = {},
): Promise<RollupRefreshResult> {
  const lagMs = (options.lagSeconds ?? 60) * 1000;
  const maxStepMs = (options.maxStepSeconds ?? 86_400) * 1000;
  const deadline = Date.now() + (options.budgetMs ?? 30_000);
  const result = await withSchemaLock(db, ROLLUP_REFRESH_LOCK, async (q) => {
    let ranges = await reaggregateInvalidated(q);
    const [state] = (await q.query(
      `SELECT watermark, now() AS now FROM metric_rollup_state WHERE id = 1`,
    )) as Array<{ watermark: Date | null; now: Date }>;
    const target = floorStep(state!.now.getTime() - lagMs);
    let watermark = state!.watermark;
    let start: number | undefined = watermark?.getTime();
    while ((start === undefined || start < target) && Date.now() < deadline) {
      const end = await advance(q, start, target, maxStepMs);
      ranges += await reaggregateInvalidated(q);
      watermark = new Date(end);
      start = end;
    }
    return { ran: true, watermark, ranges };
  });
  return result ?? { ran: false, watermark: null, ranges: 0 };
}

/**
 * Moves the watermark from `from` towards `target` (at most `maxStepMs`) while no writer is
 * between its insert and its commit, and marks the range for aggregation in the same
 * transaction; returns the new watermark. The first advance (no watermark yet) starts at the
 * oldest sample's minute, read under the same lock: a row committed before it is then inside the
 * range, and one committed after it sees the watermark and records its own invalidation. It
 * starts at least one step back, so a young table (nothing older than the lag) gets a watermark.
 */
async function advance(
  q: QueryRunner,
  from: number | undefined,
  target: number,
  maxStepMs: number,
): Promise<number> {
  await q.startTransaction();
  try {
    await q.query(`SELECT pg_advisory_xact_lock($1)`, [ROLLUP_WRITERS_LOCK]);
    let start = from;
    if (start === undefined) {
      const [row] = (await q.query(
        `SELECT min(ts) AS first FROM metric_samples WHERE ts > now() - interval '400 days'`,
      )) as Array<{ first: Date | null }>;
      start = Math.min(row?.first ? floorStep(row.first.getTime()) : target, target - STEP_MS);
    }
    const end = Math.min(target, start + maxStepMs);
    await q.query(`UPDATE metric_rollup_state SET watermark = $1, refreshed_at = now() WHERE id = 1`, [
      new Date(end),
    ]);
    await q.query(
      `INSERT INTO metric_rollup_invalidations (series_id, lo, hi) VALUES (NULL, $1, $2::timestamptz - interval '1 microsecond')`,
      [new Date(start), new Date(end)],
    );
    await q.commitTransaction();
    return end;
  } catch (e) {
    await q.rollbackTransaction();
    throw e;
  }
}

interface Range {
  lo: number;
  hi: number;
}

/** Sorted, merged minute ranges [lo, hi) covering the inclusive sample ranges given. */
export function mergeMinuteRanges(ranges: ReadonlyArray<{ lo: Date; hi: Date }>): Range[] {
  const minutes = ranges
    .map((r) => ({ lo: floorStep(r.lo.getTime()), hi: floorStep(r.hi.getTime()) + STEP_MS }))
    .sort((a, b) => a.lo - b.lo);
  const out: Range[] = [];
  for (const r of minutes) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi) last.hi = Math.max(last.hi, r.hi);
    else out.push({ ...r });
  }
  return out;
}

const AGGREGATE = `
  SELECT m.series_id, date_bin('1 minute', m.ts, timestamptz 'epoch') AS bucket,
         count(*)::int, min(m.value), max(m.value), sum(m.value),
         min(m.ts), (array_agg(m.value ORDER BY m.ts))[1],
         max(m.ts), (array_agg(m.value ORDER BY m.ts DESC))[1]`;
const UPSERT = `
  INSERT INTO metric_rollup_1m
    (series_id, bucket, count, min, max, sum, first_ts, first_value, last_ts, last_value)`;
const ON_CONFLICT = `
  ON CONFLICT (series_id, bucket) DO UPDATE SET
    count = excluded.count, min = excluded.min, max = excluded.max, sum = excluded.sum,
    first_ts = excluded.first_ts, first_value = excluded.first_value,
    last_ts = excluded.last_ts, last_value = excluded.last_value`;

/** Takes every invalidation and rebuilds the rollup minutes they cover, in one transaction. */
async function reaggregateInvalidated(q: QueryRunner): Promise<number> {
  await q.startTransaction();
  try {
    // Through a CTE: the driver returns a SELECT's rows as they are.
    const rows = (await q.query(
      `WITH taken AS (DELETE FROM metric_rollup_invalidations RETURNING series_id, lo, hi) SELECT * FROM taken`,
    )) as Array<{
      series_id: string | null;
      lo: Date;
      hi: Date;
    }>;
    const everySeries = mergeMinuteRanges(rows.filter((r) => r.series_id === null));
    for (const r of everySeries) {
      const bounds = [new Date(r.lo), new Date(r.hi)];
      await q.query(`DELETE FROM metric_rollup_1m WHERE bucket >= $1 AND bucket < $2`, bounds);
      await q.query(
        `${UPSERT} ${AGGREGATE}
           FROM metric_samples m
          WHERE m.ts >= $1 AND m.ts < $2 AND NOT m.deleted AND m.value IS NOT NULL
          GROUP BY 1, 2 ${ON_CONFLICT}`,
        bounds,
      );
    }
    const bySeries = new Map<string, Array<{ lo: Date; hi: Date }>>();
    for (const r of rows) {
      if (r.series_id === null) continue;
      let list = bySeries.get(r.series_id);
      if (!list) bySeries.set(r.series_id, (list = []));
      list.push(r);
    }
    const ids: string[] = [];
    const los: Date[] = [];
    const his: Date[] = [];
    for (const [id, list] of bySeries) {
      for (const r of mergeMinuteRanges(list)) {
        ids.push(id);
        los.push(new Date(r.lo));
        his.push(new Date(r.hi));
      }
    }
    if (ids.length > 0) {
      const ranges = `unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS x(series_id, lo, hi)`;
      await q.query(
        `DELETE FROM metric_rollup_1m r USING ${ranges}
          WHERE r.series_id = x.series_id AND r.bucket >= x.lo AND r.bucket < x.hi`,
        [ids, los, his],
      );
      await q.query(
        `${UPSERT} ${AGGREGATE}
           FROM ${ranges}
           JOIN metric_samples m ON m.series_id = x.series_id AND m.ts >= x.lo AND m.ts < x.hi
          WHERE NOT m.deleted AND m.value IS NOT NULL
          GROUP BY 1, 2 ${ON_CONFLICT}`,
        [ids, los, his],
      );
    }
    await q.commitTransaction();
    return everySeries.length + ids.length;
  } catch (e) {
    await q.rollbackTransaction();
    throw e;
  }
}

export interface RollupRefresher {
  stop(): Promise<void>;
}

const PARTITION_MAINTENANCE_EVERY_MS = 3_600_000;

/**
 * Refreshes every `intervalMs` until stopped, and keeps the day partitions ahead and within
 * retention once an hour. Any number of processes may run one: advisory locks let one of them
 * work at a time. Failures are reported and retried on the next tick.
 */
export function startRollupRefresher(
  db: DataSource,
  options: RollupRefreshOptions & {
    intervalMs?: number;
    partitions?: PartitionMaintenanceOptions;
    onError?: (e: unknown) => void;
  } = {},
): RollupRefresher {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let maintainedAt = -Infinity;
  const maintainPartitions = async () => {
    if (Date.now() - maintainedAt < PARTITION_MAINTENANCE_EVERY_MS) return;
    const result = await maintainMetricPartitions(db, options.partitions);
    const m = maintenanceMetrics();
    if (result.created > 0) m.partitionsCreated.add(result.created);
    if (result.dropped.length > 0) m.partitionsDropped.add(result.dropped.length);
    maintainedAt = Date.now();
  };
  const refresh = async () => {
    const m = maintenanceMetrics();
    const started = performance.now();
    let outcome = 'error';
    try {
      const result = await refreshMetricRollups(db, options);
      outcome = result.ran ? 'ok' : 'skipped';
      if (result.ranges > 0) m.rollupRangesAggregated.add(result.ranges);
      if (result.watermark) m.watermark = result.watermark;
    } finally {
      m.rollupRefreshDuration.record((performance.now() - started) / 1000, { result: outcome });
    }
  };
  const tick = () => {
    running = maintainPartitions()
      .catch((e: unknown) => options.onError?.(e))
      .then(refresh)
      .catch((e: unknown) => options.onError?.(e))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs ?? 15_000).unref();
      });
  };
  timer = setTimeout(tick, 0).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
