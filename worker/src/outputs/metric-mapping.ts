/**
 * One sample as a metric point, the way gnmic's Prometheus output names them: the key-less path's
 * elements (module prefixes like `openconfig-interfaces:` dropped) joined by `_`, every run of
 * characters outside `[A-Za-z0-9_]` made one `_`, an optional prefix in front; path keys (and the
 * Device's extra labels) become labels, and `device` names the Device (`<namespace>/<name>`, as the
 * `device` column in PostgreSQL).
 *
 * What kind of metric a leaf is, told from what the wire carries (gNMI has no YANG types):
 * - a number under a `counters` container, or in a leaf whose name ends in a counter word of
 *   OpenConfig (`-octets`, `-pkts`, `-packets`, `-errors`, `-discards`, `-drops`, `-transitions`,
 *   `-flaps`), is a **counter** (OpenConfig models them as counter64); `last-*` leaves under
 *   `counters` (`last-clear`, a timestamp) are gauges;
 * - any other number is a **gauge**; a boolean is a gauge of 0 or 1; a decimal string (a uint64
 *   past 2^53, which the collectors keep as text) is read as a number;
 * - any other string is **dropped** (and counted by the caller), or, with `stringsAsLabels`, an
 *   **info** series `<name>_info{..., value="UP"} 1` that the next value replaces.
 */
import type { Sample } from '../device/sample.js';

export type MetricKind = 'counter' | 'gauge' | 'info';

export interface MappingOptions {
  /** Prepended with `_`; empty or unset: none. */
  prefix?: string;
  stringsAsLabels?: boolean;
}

export interface MetricPoint {
  name: string;
  kind: MetricKind;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** A string sample without `stringsAsLabels`: no point, a drop to count. */
export const DROPPED_STRING = 'string';

const NOT_NAME = /[^A-Za-z0-9_]+/g;
const COUNTER_LEAF = /(^|-)(octets|pkts|packets|errors|discards|drops|transitions|flaps)$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** The path's elements without module prefixes: `/a:interfaces/interface` → ['interfaces', 'interface']. */
function elements(path: string): string[] {
  return path
    .split('/')
    .filter((e) => e !== '')
    .map((e) => e.slice(e.indexOf(':') + 1));
}

/** A metric name (or label name) Prometheus accepts: `[A-Za-z_][A-Za-z0-9_]*`. */
export function sanitizeName(raw: string): string {
  const s = raw.replace(NOT_NAME, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s === '' ? '_' : s;
}

/** The metric name of a key-less path: `/interfaces/interface/state/counters/in-octets` → `interfaces_interface_state_counters_in_octets`. */
export function metricName(path: string, prefix?: string): string {
  const base = elements(path).join('_');
  return sanitizeName(prefix ? `${prefix}_${base}` : base);
}

/** Whether a numeric leaf at `path` is a counter (see the header for the rule). */
export function isCounterPath(path: string): boolean {
  const elems = elements(path);
  const leaf = elems.at(-1) ?? '';
  if (leaf.startsWith('last-')) return false;
  return COUNTER_LEAF.test(leaf) || elems.slice(0, -1).includes('counters');
}

/** Label names of path keys: sanitized; `device` (ours) and a leading `__` (Prometheus') are taken. */
export function labelName(key: string): string {
  const s = sanitizeName(key).replace(/^__+/, '_');
  return s === 'device' ? 'key_device' : s;
}

/** Memo of the per-path work: a device has a bounded set of paths, each seen many times. */
interface PathInfo {
  name: string;
  counter: boolean;
}

/** Maps samples to points; keeps a bounded memo of per-path names. */
export class MetricMapper {
  private readonly paths = new Map<string, PathInfo>();
  private readonly labelNames = new Map<string, string>();

  constructor(private readonly options: MappingOptions = {}) {}

  /** The point for a sample, `DROPPED_STRING`, or undefined for a delete (value undefined). */
  map(sample: Sample): MetricPoint | typeof DROPPED_STRING | undefined {
    const v = this.valueOf(sample);
    if (v === undefined || v === DROPPED_STRING) return v;
    return { ...v, labels: this.labelsOf(sample, v) };
  }

  /** The name, kind and value of a sample, without building its labels (the cache's fast path). */
  valueOf(sample: Sample): Omit<MetricPoint, 'labels'> | typeof DROPPED_STRING | undefined {
    const { value } = sample;
    if (value === undefined) return undefined;
    const info = this.pathInfo(sample.path);
    if (typeof value === 'number')
      return { name: info.name, kind: info.counter ? 'counter' : 'gauge', value };
    if (typeof value === 'boolean') return { name: info.name, kind: 'gauge', value: value ? 1 : 0 };
    if (DECIMAL.test(value)) {
      return { name: info.name, kind: info.counter ? 'counter' : 'gauge', value: Number(value) };
    }
    if (!this.options.stringsAsLabels) return DROPPED_STRING;
    return { name: `${info.name}_info`, kind: 'info', value: 1 };
  }

  /** The point's labels: the sample's, renamed, `device`, and for an info point its string as `value`. */
  labelsOf(sample: Sample, point: Pick<MetricPoint, 'kind'>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const key in sample.labels) {
      let name = this.labelNames.get(key);
      if (name === undefined) {
        if (this.labelNames.size >= 1_000) this.labelNames.clear();
        name = labelName(key);
        this.labelNames.set(key, name);
      }
      out[name] = sample.labels[key]!;
    }
    out.device = sample.device;
    if (point.kind === 'info') out.value = String(sample.value);
    return out;
  }

  pathInfo(path: string): PathInfo {
    let info = this.paths.get(path);
    if (!info) {
      if (this.paths.size >= 10_000) this.paths.clear();
      info = { name: metricName(path, this.options.prefix), counter: isCounterPath(path) };
      this.paths.set(path, info);
    }
    return info;
  }
}
