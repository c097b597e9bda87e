/**
 * Presence across API replicas, kept in PostgreSQL (the store every replica already shares): a
 * replica heartbeats its row in `api_replicas` every `heartbeatMs` and keeps one `api_watchers`
 * row per live subscription of its own. Every replica reads the same rows, so all agree on who
 * watches what; a replica that dies stops heartbeating and its rows drop out of every answer once
 * `leaseMs` has passed (the pure rules are in watcher-set.ts), and are swept later. Times are the
 * database's, so replicas with skewed clocks still agree.
 */
import { randomUUID } from 'node:crypto';
import { metrics } from '@opentelemetry/api';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import {
  diffWatchers,
  liveWatchers,
  watchersChanged,
  type PresenceRow,
  type WatchedKind,
  type Watcher,
} from './watcher-set.js';

/** What the store needs of a database connection (typeorm's DataSource has it). */
export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

export interface PresenceOptions {
  /** This replica's identity (its pod name); a random one when unset. */
  replicaId?: string;
  heartbeatMs?: number;
  /** Rows of a replica whose last heartbeat is older are not counted. */
  leaseMs?: number;
  /** How often a `watchersChanged` subscription looks again. */
  pollMs?: number;
}

export interface WatcherSet {
  watchers: Watcher[];
  joined: Watcher[];
  left: Watcher[];
}

interface LocalRow {
  kind: WatchedKind;
  namespace: string;
  name: string;
  user: string;
  since: Date;
}

const meter = metrics.getMeter('switchforge-api');
const watchersGauge = meter.createObservableGauge('switchforge.api.presence.watchers', {
  description:
    'Users watching a Device or AudioJob through this replica, per namespace and kind (sum the replicas)',
});

export class PresenceStore {
  readonly replicaId: string;
  private readonly heartbeatMs: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly local = new Map<string, LocalRow>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  /** Ends every change stream when the replica stops. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Queryable,
    options: PresenceOptions = {},
  ) {
    this.replicaId = options.replicaId ?? `api-${randomUUID()}`;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.leaseMs = options.leaseMs ?? 3 * this.heartbeatMs;
    this.pollMs = options.pollMs ?? 1_000;
    watchersGauge.addCallback((r) => {
      const counts = new Map<string, Set<string>>();
      for (const row of this.local.values()) {
        const key = `${row.namespace}\u0000${row.kind}`;
        const users = counts.get(key) ?? new Set<string>();
        users.add(`${row.name}\u0000${row.user}`);
        counts.set(key, users);
      }
      for (const [key, users] of counts) {
        const [namespace, kind] = key.split('\u0000');
        r.observe(users.size, { namespace: namespace ?? '', kind: kind ?? '' });
      }
    });
  }

  /** The first heartbeat, then one every `heartbeatMs` (failures are logged and retried). */
  async start(): Promise<void> {
    await this.heartbeat();
    this.timer = setInterval(() => {
      this.beating = this.heartbeat().catch((e: unknown) =>
        log.warn('presence heartbeat failed', { error: errorMessage(e) }),
      );
    }, this.heartbeatMs);
    this.timer.unref();
  }

  /** Stops heartbeating and removes this replica's rows: its watchers leave at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    await this.beating;
    this.local.clear();
    await this.db
      .query(`DELETE FROM api_replicas WHERE replica_id = $1`, [this.replicaId])
      .catch((e: unknown) => log.warn('presence cleanup failed', { error: errorMessage(e) }));
  }

  /** `user` watches the object through this replica until the returned function is called. */
  async join(kind: WatchedKind, namespace: string, name: string, user: string): Promise<() => Promise<void>> {
    const id = randomUUID();
    const row: LocalRow = { kind, namespace, name, user, since: new Date() };
    this.local.set(id, row);
    await this.insert([[id, row]]).catch((e: unknown) =>
      // The next heartbeat writes it again; presence is not worth failing a subscription over.
      log.warn('presence join not written yet', { error: errorMessage(e) }),
    );
    let left = false;
    return async () => {
      if (left) return;
      left = true;
      this.local.delete(id);
      await this.db
        .query(`DELETE FROM api_watchers WHERE replica_id = $1 AND subscription_id = $2`, [
          this.replicaId,
          id,
        ])
        .catch((e: unknown) => log.warn('presence leave not written', { error: errorMessage(e) }));
    };
  }

  /** Who watches the object now, across every live replica: one entry per user, since their first. */
  async watchers(kind: WatchedKind, namespace: string, name: string): Promise<Watcher[]> {
    const rows = await this.db.query<
      Array<{ replica_id: string; username: string; since: Date; heartbeat_at: Date; now: Date }>
    >(
      `SELECT w.replica_id, w.username, w.since, r.heartbeat_at, now() AS now
         FROM api_watchers w JOIN api_replicas r USING (replica_id)
        WHERE w.kind = $1 AND w.namespace = $2 AND w.name = $3`,
      [kind, namespace, name],
    );
    if (rows.length === 0) return [];
    const heartbeats = new Map(rows.map((r) => [r.replica_id, new Date(r.heartbeat_at)]));
    const presence: PresenceRow[] = rows.map((r) => ({
      replicaId: r.replica_id,
      namespace,
      kind,
      name,
      user: r.username,
      since: new Date(r.since),
    }));
    return liveWatchers(presence, heartbeats, new Date(rows[0]!.now), this.leaseMs);
  }

  /**
   * The watcher set now, then each time someone joins or leaves (a replica's death included,
   * within its lease), until `signal` aborts.
   */
  async *changes(
    kind: WatchedKind,
    namespace: string,
    name: string,
    until: AbortSignal,
  ): AsyncGenerator<WatcherSet> {
    const signal = AbortSignal.any([until, this.stopping.signal]);
    let last = await this.watchers(kind, namespace, name);
    yield { watchers: last, joined: last, left: [] };
    while (!signal.aborted) {
      await new Promise<void>((res) => {
        const t = setTimeout(res, this.pollMs);
        signal.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
      });
      if (signal.aborted) return;
      let now: Watcher[];
      try {
        now = await this.watchers(kind, namespace, name);
      } catch (e) {
        log.warn('presence poll failed', { error: errorMessage(e) });
        continue;
      }
      const diff = diffWatchers(last, now);
      if (!watchersChanged(diff)) continue;
      last = now;
      yield { watchers: now, joined: diff.added, left: diff.removed };
    }
  }

  private async heartbeat(): Promise<void> {
    const [beat] = await this.db.query<Array<{ inserted: boolean }>>(
      `INSERT INTO api_replicas (replica_id, heartbeat_at) VALUES ($1, now())
       ON CONFLICT (replica_id) DO UPDATE SET heartbeat_at = now()
       RETURNING (xmax = 0) AS inserted`,
      [this.replicaId],
    );
    // Swept while this replica could not reach the database: its rows went with it.
    if (beat?.inserted) await this.insert([...this.local]);
    // Replicas gone for ten leases: their rows are no one's any more.
    await this.db.query(`DELETE FROM api_replicas WHERE heartbeat_at < now() - make_interval(secs => $1)`, [
      (this.leaseMs * 10) / 1000,
    ]);
  }

  private async insert(rows: Array<[string, LocalRow]>): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `INSERT INTO api_watchers (replica_id, subscription_id, kind, namespace, name, username, since)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
       ON CONFLICT DO NOTHING`,
      [
        this.replicaId,
        rows.map(([id]) => id),
        rows.map(([, r]) => r.kind),
        rows.map(([, r]) => r.namespace),
        rows.map(([, r]) => r.name),
        rows.map(([, r]) => r.user),
        rows.map(([, r]) => r.since.toISOString()),
      ],
    );
  }
}
