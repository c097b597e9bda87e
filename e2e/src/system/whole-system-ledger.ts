import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** How long after a fault the first and the last of the affected devices wrote a new row. */
export interface Recovery {
  firstSeconds: number;
  allSeconds: number;
}

/**
 * Keeps the committed row count of every device as last seen, so that each look can check that
 * none went down (committed data lost), and measures how long after a fault the affected
 * devices write again.
 */
export class RowLedger {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly db: pg.Pool,
    private readonly namespace: string,
  ) {}

  /** Committed rows per device (namespace/name), checked against the last look: a count never goes down. */
  async counts(): Promise<Map<string, number>> {
    const r = await this.db.query<{ device: string; n: string }>(
      `SELECT device, count(*) AS n FROM metrics WHERE device LIKE $1 GROUP BY device`,
      [`${this.namespace}/%`],
    );
    const now = new Map(r.rows.map((row) => [row.device, Number(row.n)]));
    for (const [device, before] of this.seen) {
      const after = now.get(device) ?? 0;
      if (after < before) throw new Error(`committed rows of ${device} went from ${before} down to ${after}`);
    }
    for (const [device, n] of now) this.seen.set(device, n);
    return now;
  }

  /** Rows that share a key (device, path, labels, ts): writes are idempotent, so there must be none. */
  async duplicates(): Promise<number> {
    const r = await this.db.query(
      `SELECT 1 FROM metrics WHERE device LIKE $1 GROUP BY device, path, labels, ts HAVING count(*) > 1`,
      [`${this.namespace}/%`],
    );
    return r.rowCount ?? 0;
  }

  /**
   * Polls until every device in `devices` has more rows than `baseline` holds for it. A query
   * that fails (the database is restarting) is retried until `limitMs` after the fault.
   */
  async waitForNewRows(
    devices: readonly string[],
    faultAt: number,
    baseline: Map<string, number>,
    limitMs = 60_000,
  ): Promise<Recovery> {
    const pending = new Set(devices);
    let firstSeconds: number | undefined;
    let lastError: unknown;
    for (;;) {
      try {
        const now = await this.counts();
        for (const d of [...pending]) {
          if ((now.get(d) ?? 0) > (baseline.get(d) ?? 0)) {
            pending.delete(d);
            firstSeconds ??= (Date.now() - faultAt) / 1000;
          }
        }
        if (pending.size === 0)
          return { firstSeconds: firstSeconds!, allSeconds: (Date.now() - faultAt) / 1000 };
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('committed rows')) throw e;
        lastError = e;
      }
      if (Date.now() - faultAt > limitMs) {
        throw new Error(
          `no new rows within ${limitMs / 1000} s of the fault for ${[...pending].join(', ')}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
        );
      }
      await sleep(200);
    }
  }
}
