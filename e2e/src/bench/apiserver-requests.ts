/**
 * Requests the kube-apiserver served, by verb and resource, from its own `/metrics`
 * (`apiserver_request_total`): the cost a controller puts on the control plane, counted where
 * it lands rather than by the client's own bookkeeping.
 */

/** `VERB resource[/subresource]` → count. */
export type RequestCounts = Map<string, number>;

const LINE = /^apiserver_request_total\{([^}]*)\}\s+([0-9.eE+-]+)/;

export function parseApiserverRequests(text: string): RequestCounts {
  const counts: RequestCounts = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    const resource = labels.subresource
      ? `${labels.resource}/${labels.subresource}`
      : (labels.resource ?? '');
    const key = `${labels.verb ?? ''} ${resource}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** What happened between two scrapes, without the keys that did not move. */
export function requestDelta(before: RequestCounts, after: RequestCounts): RequestCounts {
  const delta: RequestCounts = new Map();
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d > 0) delta.set(key, d);
  }
  return delta;
}

const READS = new Set(['GET', 'LIST', 'WATCH']);

/** Writes and reads per unit (a Device), each as `verb resource n.nn`, largest first. */
export function perUnit(delta: RequestCounts, units: number, resources: readonly string[]) {
  const rows = [...delta]
    .filter(([key]) => resources.some((r) => key.split(' ')[1]!.split('/')[0] === r))
    .map(([key, n]) => ({ key, perUnit: n / units, read: READS.has(key.split(' ')[0]!) }))
    .sort((a, b) => b.perUnit - a.perUnit);
  const total = (read: boolean) => rows.filter((r) => r.read === read).reduce((s, r) => s + r.perUnit, 0);
  const list = (read: boolean) =>
    rows
      .filter((r) => r.read === read)
      .map((r) => `${r.key} ${r.perUnit.toFixed(2)}`)
      .join(', ');
  return { writes: total(false), reads: total(true), writeList: list(false), readList: list(true) };
}
