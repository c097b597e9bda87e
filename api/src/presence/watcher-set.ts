/**
 * Pure presence logic: which subscription rows count as live watchers of an object, and how a
 * watcher set changed. Rows are written per API replica with a heartbeat; a replica that died
 * without cleanup stops heartbeating, so its rows drop out once the lease passes.
 */

export type WatchedKind = 'Device' | 'AudioJob';

export interface PresenceRow {
  replicaId: string;
  namespace: string;
  kind: WatchedKind;
  name: string;
  /** Kubernetes user name behind the subscription. */
  user: string;
  since: Date;
}

export interface Watcher {
  user: string;
  /** Earliest live subscription of this user on the object. */
  since: Date;
}

/** Replicas whose last heartbeat is older than `leaseMs` at `now` (to ignore and sweep). */
export function expiredReplicas(
  heartbeats: ReadonlyMap<string, Date>,
  now: Date,
  leaseMs: number,
): Set<string> {
  const expired = new Set<string>();
  for (const [replica, beat] of heartbeats) {
    if (now.getTime() - beat.getTime() > leaseMs) expired.add(replica);
  }
  return expired;
}

/**
 * Live watchers of one object: rows of replicas with a current heartbeat, one entry per user
 * (a user with several tabs open is one watcher, since their first), sorted by user.
 */
export function liveWatchers(
  rows: readonly PresenceRow[],
  heartbeats: ReadonlyMap<string, Date>,
  now: Date,
  leaseMs: number,
): Watcher[] {
  const byUser = new Map<string, Date>();
  for (const row of rows) {
    const beat = heartbeats.get(row.replicaId);
    if (beat === undefined || now.getTime() - beat.getTime() > leaseMs) continue;
    const seen = byUser.get(row.user);
    if (seen === undefined || row.since < seen) byUser.set(row.user, row.since);
  }
  return [...byUser]
    .map(([user, since]) => ({ user, since }))
    .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
}

export interface WatcherDiff {
  added: Watcher[];
  removed: Watcher[];
}

/** Users that joined or left between two watcher sets; a changed `since` alone is no change. */
export function diffWatchers(before: readonly Watcher[], after: readonly Watcher[]): WatcherDiff {
  const was = new Set(before.map((w) => w.user));
  const is = new Set(after.map((w) => w.user));
  return {
    added: after.filter((w) => !was.has(w.user)),
    removed: before.filter((w) => !is.has(w.user)),
  };
}

export function watchersChanged(diff: WatcherDiff): boolean {
  return diff.added.length > 0 || diff.removed.length > 0;
}
