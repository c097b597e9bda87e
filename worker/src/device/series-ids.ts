import type pg from 'pg';
import type { Sample } from './sample.js';

/** The cache key of a sample's series: device, path and labels in the order the collector gave them. */
export function seriesKey(s: Sample): string {
  let key = `${s.device}\u0000${s.path}\u0000`;
  for (const k in s.labels) key += `${k}\u0001${s.labels[k]}\u0002`;
  return key;
}

interface NewSeries {
  key: string;
  device: string;
  path: string;
  labels: string;
}

/**
 * Maps (device, path, labels) to `metric_series.id`. Known series come from memory; the series a
 * batch brings for the first time are created (or found) in one statement. Ids never change, so
 * a cache entry is never stale; the cache is bounded by starting over when it is full.
 */
export class SeriesIds {
  private readonly ids = new Map<string, number>();

  constructor(private readonly maxCached = 1_000_000) {}

  get size(): number {
    return this.ids.size;
  }

  /** The series id of each sample of `batch`, in order. */
  async resolve(client: pg.ClientBase, batch: readonly Sample[]): Promise<Float64Array> {
    const out = new Float64Array(batch.length);
    const keys = new Array<string>(batch.length);
    let missing: Map<string, NewSeries> | undefined;
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      const key = seriesKey(s);
      keys[i] = key;
      const id = this.ids.get(key);
      if (id !== undefined) {
        out[i] = id;
      } else {
        missing ??= new Map();
        if (!missing.has(key)) {
          missing.set(key, { key, device: s.device, path: s.path, labels: JSON.stringify(s.labels) });
        }
      }
    }
    if (!missing) return out;
    if (this.ids.size + missing.size > this.maxCached) this.ids.clear();
    await this.create(client, [...missing.values()]);
    for (let i = 0; i < batch.length; i++) if (out[i] === 0) out[i] = this.ids.get(keys[i]!)!;
    return out;
  }

  /**
   * Inserts the series that do not exist and reads the ids of all. A series another writer
   * creates concurrently is invisible to this statement's snapshot: it is read again.
   */
  private async create(client: pg.ClientBase, series: NewSeries[]): Promise<void> {
    let todo = series;
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt === 5) throw new Error(`could not resolve ${todo.length} metric series ids`);
      const r = await client.query<{ i: string; id: string | null }>(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS t(device, path, labels, i)
         ), created AS (
           INSERT INTO metric_series (device, path, labels)
           SELECT device, path, labels FROM input ORDER BY i
           ON CONFLICT DO NOTHING
           RETURNING id, device, path, labels
         )
         SELECT input.i, coalesce(created.id, existing.id) AS id
           FROM input
           LEFT JOIN created USING (device, path, labels)
           LEFT JOIN metric_series existing USING (device, path, labels)`,
        [todo.map((s) => s.device), todo.map((s) => s.path), todo.map((s) => s.labels)],
      );
      const left: NewSeries[] = [];
      for (const row of r.rows) {
        const s = todo[Number(row.i) - 1]!;
        if (row.id === null) left.push(s);
        else this.ids.set(s.key, Number(row.id));
      }
      todo = left;
    }
  }
}
