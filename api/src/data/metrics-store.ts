import type { DataSource } from 'typeorm';
import { InputError } from '@switchforge/platform/errors';
import { parseDuration } from '@switchforge/platform/config';
import {
  mergeMinuteRanges,
  ROLLUP_SECONDS,
  startRollupRefresher,
  type PartitionMaintenanceOptions,
  type RollupRefresher,
} from '@switchforge/platform/db';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import type { MetricValue } from './metric-values.js';

export interface SeriesQuery {
  device: string;
  path: string;
  labels?: Record<string, string>;
  from: Date;
  to: Date;
  points?: number;
  bucket?: string;
}

export interface SeriesPoint {
  time: Date;
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  last: number | null;
  rate: number | null;
}

export interface Series {
  path: string;
  labels: Record<string, string>;
  bucketSeconds: number;
  points: SeriesPoint[];
}

export const SERIES_LIMITS = { maxPoints: 10_000, maxSeries: 100, maxRangeDays: 400 } as const;

interface SeriesRow {
  series_id: string;
  bucket: Date;
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  last: number | null;
  rate: number | null;
}

interface LatestRow {
  path: string;
  labels: Record<string, string>;
  ts_ns: string;
  value: number | null;
  value_text: string | null;
  deleted: boolean;
}

interface Window {
  lo: Date;
  hi: Date;
}

const ROLLUP_MS = ROLLUP_SECONDS * 1000;
const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;
const ceilTo = (ms: number, step: number) => Math.ceil(ms / step) * step;

/** Parts of [lo, hi) not covered by `holes` (sorted, merged). */
function subtract(lo: number, hi: number, holes: ReadonlyArray<{ lo: number; hi: number }>): Window[] {
  const out: Window[] = [];
  let at = lo;
  for (const h of holes) {
    if (h.hi <= at || h.lo >= hi) continue;
    if (h.lo > at) out.push({ lo: new Date(at), hi: new Date(h.lo) });
    at = Math.max(at, h.hi);
  }
  if (at < hi) out.push({ lo: new Date(at), hi: new Date(hi) });
  return out;
}

/**
 * Reads metric history. Downsampling happens in PostgreSQL, in two steps: partial aggregates per
 * series and minute (count, min, max, sum, first and last value with their times) come from the
 * `metric_rollup_1m` rollup for refreshed minutes and from raw samples for the rest (the minutes
 * after the watermark, minutes with late rows not yet re-aggregated, a partial first minute);
 * they are then combined into buckets. A bucket of a whole number of minutes uses the rollup; a
 * shorter or odd one reads raw samples. `rate` is the increase of the bucket's last value over
 * the previous bucket's, per second, with a counter reset (a decrease) counted as a restart from
 * zero.
 */
export class MetricsStore {
  private refresher: RollupRefresher | undefined;

  constructor(private readonly db: DataSource) {}

  /**
   * Keeps the rollup refreshed, and the day partitions ahead and within retention, from this
   * process (one replica at a time does the work).
   */
  startRollupRefresh(options: { intervalMs?: number; partitions?: PartitionMaintenanceOptions } = {}): void {
    this.refresher ??= startRollupRefresher(this.db, {
      ...options,
      onError: (e) => log.warn('metric rollup refresh failed', { error: errorMessage(e) }),
    });
  }

  async stopRollupRefresh(): Promise<void> {
    await this.refresher?.stop();
    this.refresher = undefined;
  }

  /**
   * The bucket width in seconds. Widths of a minute or more derived from `points` are rounded up
   * to whole minutes, so that the rollup serves them.
   */
  bucketSeconds(q: Pick<SeriesQuery, 'from' | 'to' | 'points' | 'bucket'>): number {
    const rangeMs = q.to.getTime() - q.from.getTime();
    if (!(rangeMs > 0)) throw new InputError('series: `to` must be after `from`');
    if (rangeMs > SERIES_LIMITS.maxRangeDays * 86_400_000) {
      throw new InputError(`series: the range may span at most ${SERIES_LIMITS.maxRangeDays} days`);
    }
    let seconds: number;
    if (q.bucket !== undefined) {
      seconds = parseDuration(q.bucket) / 1000;
    } else {
      const points = q.points ?? 500;
      if (!Number.isInteger(points) || points < 1 || points > SERIES_LIMITS.maxPoints) {
        throw new InputError(`series: points must be between 1 and ${SERIES_LIMITS.maxPoints}`);
      }
      seconds = Math.ceil(rangeMs / 1000 / points);
      if (seconds >= ROLLUP_SECONDS) seconds = ceilTo(seconds, ROLLUP_SECONDS);
    }
    seconds = Math.max(1, seconds);
    if (rangeMs / 1000 / seconds > SERIES_LIMITS.maxPoints) {
      throw new InputError(
        `series: bucket too small for the range (more than ${SERIES_LIMITS.maxPoints} points)`,
      );
    }
    return seconds;
  }

  async series(q: SeriesQuery): Promise<Series[]> {
    const seconds = this.bucketSeconds(q);
    const found = (await this.db.query(
      `SELECT id::text AS id, labels FROM metric_series
        WHERE device = $1 AND path = $2 AND labels @> $3::jsonb ORDER BY labels::text`,
      [q.device, q.path, JSON.stringify(q.labels ?? {})],
    )) as Array<{ id: string; labels: Record<string, string> }>;
    if (found.length === 0) return [];
    const ids = found.map((f) => f.id);
    const from = q.from.getTime();
    const to = q.to.getTime();
    const useRollup = Number.isInteger(seconds) && seconds % ROLLUP_SECONDS === 0;
    // With the rollup, buckets start on whole minutes (from the minute `from` falls in).
    const origin = useRollup ? floorTo(from, ROLLUP_MS) : from;
    const partSeconds = useRollup ? ROLLUP_SECONDS : seconds;
    let rollup: Window | undefined;
    let excluded: Window[] = [];
    let raw: Window[] = [{ lo: q.from, hi: q.to }];
    if (useRollup) {
      const plan = await this.rollupPlan(ids, from, to);
      rollup = plan.rollup;
      excluded = plan.excluded;
      raw = plan.raw;
    }
    const rows = (await this.db.query(
      `WITH raw_windows AS (
         SELECT * FROM unnest($4::timestamptz[], $5::timestamptz[]) AS w(lo, hi)
       ), excluded AS (
         SELECT * FROM unnest($6::timestamptz[], $7::timestamptz[]) AS x(lo, hi)
       ), parts AS (
         SELECT r.series_id, r.bucket AS part, r.count, r.min, r.max, r.sum,
                r.first_ts, r.first_value, r.last_ts, r.last_value
           FROM metric_rollup_1m r
          WHERE $8::boolean AND r.series_id = ANY($1::bigint[]) AND r.bucket >= $9 AND r.bucket < $10
            AND NOT EXISTS (SELECT 1 FROM excluded x WHERE r.bucket >= x.lo AND r.bucket < x.hi)
         UNION ALL
         SELECT m.series_id, date_bin(make_interval(secs => $11), m.ts, $3::timestamptz),
                count(*)::int, min(m.value), max(m.value), sum(m.value),
                min(m.ts), (array_agg(m.value ORDER BY m.ts))[1],
                max(m.ts), (array_agg(m.value ORDER BY m.ts DESC))[1]
           FROM raw_windows w
           JOIN metric_samples m ON m.series_id = ANY($1::bigint[]) AND m.ts >= w.lo AND m.ts < w.hi
          WHERE NOT m.deleted AND m.value IS NOT NULL
          GROUP BY 1, 2
       ), b AS (
         SELECT series_id, date_bin(make_interval(secs => $2), part, $3::timestamptz) AS bucket,
                sum(count)::int AS count, min(min) AS min, max(max) AS max,
                sum(sum) / sum(count) AS avg,
                (array_agg(last_value ORDER BY last_ts DESC))[1] AS last,
                (array_agg(first_value ORDER BY first_ts))[1] AS first
           FROM parts GROUP BY 1, 2
       ), d AS (
         SELECT *, last - coalesce(lag(last) OVER w, first) AS delta,
                coalesce(extract(epoch FROM bucket - lag(bucket) OVER w), $2) AS span
           FROM b WINDOW w AS (PARTITION BY series_id ORDER BY bucket)
       )
       SELECT series_id::text, bucket, count, min, max, avg, last,
              (CASE WHEN delta < 0 THEN last ELSE delta END) / span AS rate
         FROM d ORDER BY series_id, bucket
        LIMIT $12`,
      [
        ids,
        seconds,
        new Date(origin),
        raw.map((w) => w.lo),
        raw.map((w) => w.hi),
        excluded.map((w) => w.lo),
        excluded.map((w) => w.hi),
        rollup !== undefined,
        rollup?.lo ?? q.from,
        rollup?.hi ?? q.from,
        partSeconds,
        SERIES_LIMITS.maxPoints * SERIES_LIMITS.maxSeries,
      ],
    )) as SeriesRow[];
    const byId = new Map<string, Series>();
    for (const f of found)
      byId.set(f.id, { path: q.path, labels: f.labels, bucketSeconds: seconds, points: [] });
    for (const r of rows) {
      byId.get(r.series_id)!.points.push({
        time: r.bucket,
        count: r.count,
        min: r.min,
        max: r.max,
        avg: r.avg,
        last: r.last,
        rate: r.rate,
      });
    }
    // In label order, as found; label sets without samples in the range are left out.
    return [...byId.values()].filter((s) => s.points.length > 0);
  }

  /**
   * Which minutes of [from, to) the rollup serves: whole minutes below the watermark that no
   * pending invalidation covers. Everything else is read raw.
   */
  private async rollupPlan(
    ids: string[],
    from: number,
    to: number,
  ): Promise<{ rollup: Window | undefined; excluded: Window[]; raw: Window[] }> {
    const [state] = (await this.db.query(`SELECT watermark FROM metric_rollup_state WHERE id = 1`)) as Array<{
      watermark: Date | null;
    }>;
    const start = ceilTo(from, ROLLUP_MS);
    const end = Math.min(state?.watermark?.getTime() ?? start, floorTo(to, ROLLUP_MS));
    if (end <= start)
      return { rollup: undefined, excluded: [], raw: [{ lo: new Date(from), hi: new Date(to) }] };
    const invalidated = (await this.db.query(
      `SELECT lo, hi FROM metric_rollup_invalidations
        WHERE (series_id IS NULL OR series_id = ANY($1::bigint[])) AND hi >= $2 AND lo < $3`,
      [ids, new Date(start), new Date(end)],
    )) as Array<{ lo: Date; hi: Date }>;
    const holes = mergeMinuteRanges(invalidated);
    const excluded = holes.map((h) => ({ lo: new Date(h.lo), hi: new Date(h.hi) }));
    // Raw: the partial first minute, the invalidated minutes, and everything from the watermark.
    const raw: Window[] = [];
    if (from < start) raw.push({ lo: new Date(from), hi: new Date(start) });
    const covered = subtract(start, end, holes);
    raw.push(
      ...subtract(
        start,
        end,
        covered.map((w) => ({ lo: w.lo.getTime(), hi: w.hi.getTime() })),
      ),
    );
    if (end < to) raw.push({ lo: new Date(end), hi: new Date(to) });
    return { rollup: { lo: new Date(start), hi: new Date(end) }, excluded, raw };
  }

  /** The newest row of each (path, labels) under a prefix, looking back at most `lookback`. */
  async latestValues(
    device: string,
    pathPrefix: string | undefined,
    limit: number,
    lookbackSeconds = 86_400,
  ): Promise<MetricValue[]> {
    // Per series, the newest sample is the first entry of its (series_id, ts) key, read backwards.
    const rows = (await this.db.query(
      `SELECT s.path, s.labels,
              (floor(extract(epoch FROM m.ts) * 1000000)::bigint * 1000)::text AS ts_ns,
              m.value, m.value_text, m.deleted
         FROM metric_series s
         CROSS JOIN LATERAL (
           SELECT ts, value, value_text, deleted FROM metric_samples
            WHERE series_id = s.id AND ts > now() - make_interval(secs => $4)
            ORDER BY ts DESC LIMIT 1
         ) m
        WHERE s.device = $1 AND ($2::text IS NULL OR starts_with(s.path, $2::text))
        ORDER BY s.path, s.labels
        LIMIT $3`,
      [device, pathPrefix ?? null, limit, lookbackSeconds],
    )) as LatestRow[];
    return rows.map((r) => ({
      path: r.path,
      labels: r.labels,
      timestampNs: r.ts_ns,
      value: r.value,
      text: r.value_text ?? (r.value === null ? null : String(r.value)),
      deleted: r.deleted,
    }));
  }
}
