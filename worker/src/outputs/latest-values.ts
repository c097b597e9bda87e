/**
 * The latest value of each series, what the Prometheus and OTLP outputs read: bounded in series
 * (new series past `maxSeries` are dropped and counted, existing ones keep updating), cleared of
 * a leaf or a branch when the switch deletes it. Updating is a map write per sample: the ingest
 * path into PostgreSQL pays nothing else for the outputs.
 */
import type { Sample } from '../device/sample.js';
import { DROPPED_STRING, MetricMapper, type MappingOptions, type MetricKind } from './metric-mapping.js';

export interface Series {
  /** With `value` for an info series: the string it holds now. */
  labels: Readonly<Record<string, string>>;
  value: number;
  /** Of the last sample, ns. */
  timestampNs: bigint;
  /** The sample's key-less path and own labels: how a delete finds the series. */
  readonly path: string;
  readonly sampleLabels: Readonly<Record<string, string>>;
}

export interface MetricFamily {
  readonly name: string;
  readonly kind: MetricKind;
  /** By the series' label key. */
  readonly series: Map<string, Series>;
}

export interface LatestValuesOptions extends MappingOptions {
  maxSeries: number;
  /** New series not kept because the cache is full. */
  onSeriesDropped?: (n: number) => void;
  /** String samples dropped (without `stringsAsLabels`). */
  onStringsDropped?: (n: number) => void;
  /** A metric name seen for the first time (the OTLP output makes its instrument). */
  onFamily?: (family: MetricFamily) => void;
}

const labelKey = (labels: Readonly<Record<string, string>>): string => {
  const keys = Object.keys(labels).sort();
  let key = '';
  for (const k of keys) key += `${k}\u0000${labels[k]}\u0001`;
  return key;
};

export class LatestValues {
  private readonly byName = new Map<string, MetricFamily>();
  private readonly mapper: MetricMapper;
  private count = 0;

  constructor(private readonly options: LatestValuesOptions) {
    this.mapper = new MetricMapper(options);
  }

  get size(): number {
    return this.count;
  }

  families(): IterableIterator<MetricFamily> {
    return this.byName.values();
  }

  family(name: string): MetricFamily | undefined {
    return this.byName.get(name);
  }

  /** Forgets every value; the families stay (the OTLP instruments hold them) with no series. */
  clear(): void {
    for (const family of this.byName.values()) family.series.clear();
    this.count = 0;
  }

  record(samples: readonly Sample[]): void {
    let droppedSeries = 0;
    let droppedStrings = 0;
    for (const s of samples) {
      if (s.value === undefined) {
        this.delete(s);
        continue;
      }
      const point = this.mapper.valueOf(s);
      if (point === undefined) continue;
      if (point === DROPPED_STRING) {
        droppedStrings++;
        continue;
      }
      let family = this.byName.get(point.name);
      const key = labelKey(s.labels);
      const existing = family?.series.get(key);
      // Keyed by the sample's labels, so the next string of an info series replaces the last.
      if (existing) {
        existing.value = point.value;
        existing.timestampNs = s.timestampNs;
        if (point.kind === 'info') existing.labels = this.mapper.labelsOf(s, point);
        continue;
      }
      if (this.count >= this.options.maxSeries) {
        droppedSeries++;
        continue;
      }
      if (!family) {
        family = { name: point.name, kind: point.kind, series: new Map() };
        this.byName.set(point.name, family);
        this.options.onFamily?.(family);
      }
      family.series.set(key, {
        labels: this.mapper.labelsOf(s, point),
        value: point.value,
        timestampNs: s.timestampNs,
        path: s.path,
        sampleLabels: s.labels,
      });
      this.count++;
    }
    if (droppedSeries > 0) this.options.onSeriesDropped?.(droppedSeries);
    if (droppedStrings > 0) this.options.onStringsDropped?.(droppedStrings);
  }

  /** A delete: the leaf, or for a branch every leaf below `path`, whose labels include the delete's. */
  private delete(s: Sample): void {
    const prefix = s.path.endsWith('/') ? s.path : `${s.path}/`;
    for (const family of this.byName.values()) {
      for (const [k, series] of family.series) {
        if (
          (series.path === s.path || series.path.startsWith(prefix) || s.path === '/') &&
          Object.entries(s.labels).every(([lk, lv]) => series.sampleLabels[lk] === lv)
        ) {
          family.series.delete(k);
          this.count--;
        }
      }
    }
  }
}
