import type { DataSource } from 'typeorm';
import { InputError } from '@switchforge/platform/errors';
import { parseDuration } from '@switchforge/platform/config';
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
  labels: Record<string, string>;
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

/**
 * Reads metric history. Downsampling happens in PostgreSQL: rows are binned with `date_bin`
 * and aggregated per label set, so a day of 1 s samples leaves the database as a few hundred
 * points. `rate` is the increase of the bucket's last value over the previous bucket's, per
 * second, with a counter reset (a decrease) counted as a restart from zero.
 */
export class MetricsStore {
  constructor(private readonly db: DataSource) {}

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
    const rows = (await this.db.query(
      `WITH b AS (
         SELECT labels, date_bin(make_interval(secs => $5), ts, $3::timestamptz) AS bucket,
                count(*)::int AS count, min(value) AS min, max(value) AS max, avg(value) AS avg,
                (array_agg(value ORDER BY ts DESC))[1] AS last,
                (array_agg(value ORDER BY ts))[1] AS first
           FROM metrics
          WHERE device = $1 AND path = $2 AND ts >= $3 AND ts < $4 AND labels @> $6::jsonb
            AND NOT deleted AND value IS NOT NULL
          GROUP BY labels, bucket
       ), d AS (
         SELECT *, last - coalesce(lag(last) OVER w, first) AS delta,
                coalesce(extract(epoch FROM bucket - lag(bucket) OVER w), $5) AS span
           FROM b WINDOW w AS (PARTITION BY labels ORDER BY bucket)
       )
       SELECT labels, bucket, count, min, max, avg, last,
              (CASE WHEN delta < 0 THEN last ELSE delta END) / span AS rate
         FROM d ORDER BY labels::text, bucket
        LIMIT $7`,
      [
        q.device,
        q.path,
        q.from,
        q.to,
        seconds,
        JSON.stringify(q.labels ?? {}),
        SERIES_LIMITS.maxPoints * SERIES_LIMITS.maxSeries,
      ],
    )) as SeriesRow[];
    const byLabels = new Map<string, Series>();
    for (const r of rows) {
      const key = JSON.stringify(r.labels);
      let s = byLabels.get(key);
      if (!s) {
        s = { path: q.path, labels: r.labels, bucketSeconds: seconds, points: [] };
        byLabels.set(key, s);
      }
      s.points.push({
        time: r.bucket,
        count: r.count,
        min: r.min,
        max: r.max,
        avg: r.avg,
        last: r.last,
        rate: r.rate,
      });
    }
    return [...byLabels.values()];
  }

  /** The newest row of each (path, labels) under a prefix, looking back at most `lookback`. */
  async latestValues(
    device: string,
    pathPrefix: string | undefined,
    limit: number,
    lookbackSeconds = 86_400,
  ): Promise<MetricValue[]> {
    const rows = (await this.db.query(
      `SELECT DISTINCT ON (path, labels) path, labels,
              (floor(extract(epoch FROM ts) * 1000000)::bigint * 1000)::text AS ts_ns,
              value, value_text, deleted
         FROM metrics
        WHERE device = $1 AND ts > now() - make_interval(secs => $4)
          AND ($2::text IS NULL OR starts_with(path, $2::text))
        ORDER BY path, labels, ts DESC
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
