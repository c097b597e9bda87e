import type { AudioJob, Condition, Device, StemResult } from '@switchforge/platform/crd';
import type { StemOwner } from '../audio/stem-files.js';
import { DEFAULT_PROTOCOL, deviceAsCollected, devicePort } from '@switchforge/platform/crd';
import { fromSampleValue, timestampFromNs, type MetricValue } from '../data/metric-values.js';
import type { WireSample } from '@switchforge/platform/live-wire';

/** The shapes the schema's object types resolve from: plain data built from CRs and rows. */
export interface DeviceView {
  namespace: string;
  name: string;
  uid: string;
  labels: { name: string; value: string }[];
  address: string;
  port: number;
  protocol: string;
  status: {
    phase: string | null;
    conditions: Condition[];
    workerPod: string | null;
    lastSampleTime: string | null;
    updatesPerSecond: number | null;
    lastBackupTime: string | null;
    lastBackupHash: string | null;
    observedGeneration: number | null;
  };
}

export function deviceView(d: Device): DeviceView {
  const s = d.status;
  // With a profileRef, port and protocol may be the profile's: the merged spec has them.
  const spec = deviceAsCollected(d)?.spec ?? d.spec;
  return {
    namespace: d.metadata.namespace ?? '',
    name: d.metadata.name ?? '',
    uid: d.metadata.uid ?? '',
    labels: Object.entries(d.metadata.labels ?? {}).map(([name, value]) => ({ name, value })),
    address: d.spec.address,
    port: devicePort(spec),
    protocol: spec.protocol ?? DEFAULT_PROTOCOL,
    status: {
      phase: s?.phase ?? null,
      conditions: s?.conditions ?? [],
      workerPod: s?.workerPod ?? null,
      lastSampleTime: s?.lastSampleTime ?? null,
      updatesPerSecond: s?.updatesPerSecond ?? null,
      lastBackupTime: s?.lastBackup?.time ?? null,
      lastBackupHash: s?.lastBackup?.hash ?? null,
      observedGeneration: s?.observedGeneration ?? null,
    },
  };
}

export interface AudioJobView {
  namespace: string;
  name: string;
  uid: string;
  createdAt: string | null;
  source: AudioJob['spec']['source'];
  spec: AudioJob['spec'];
  phase: string | null;
  stage: string | null;
  progress: number;
  workflowId: string | null;
  startTime: string | null;
  completionTime: string | null;
  conditions: Condition[];
  results: {
    bpm: number | null;
    key: string | null;
    loudness: number | null;
    durationSeconds: number | null;
    stems: StemView[];
  } | null;
}

/** A stem with the job it belongs to (its download link is authorised in that job's namespace). */
export type StemView = StemResult & { owner: StemOwner };

export function audioJobView(j: AudioJob): AudioJobView {
  const s = j.status;
  const r = s?.results;
  const created = j.metadata.creationTimestamp;
  return {
    namespace: j.metadata.namespace ?? '',
    name: j.metadata.name ?? '',
    uid: j.metadata.uid ?? '',
    createdAt: created ? new Date(created).toISOString() : null,
    source: j.spec.source,
    spec: j.spec,
    phase: s?.phase ?? null,
    stage: s?.stage ?? null,
    progress: s?.progress ?? 0,
    workflowId: s?.workflowId ?? null,
    startTime: s?.startTime ?? null,
    completionTime: s?.completionTime ?? null,
    conditions: s?.conditions ?? [],
    results: r
      ? {
          bpm: r.bpm ?? null,
          key: r.key ?? null,
          loudness: r.loudness ?? null,
          durationSeconds: r.durationSeconds ?? null,
          stems: (r.stems ?? []).map((stem) => ({
            ...stem,
            owner: {
              namespace: j.metadata.namespace ?? '',
              name: j.metadata.name ?? '',
              uid: j.metadata.uid ?? '',
            },
          })),
        }
      : null,
  };
}

export interface MetricValueView extends MetricValue {
  timestamp: Date;
}

export function metricValueView(v: MetricValue): MetricValueView {
  return { ...v, timestamp: timestampFromNs(v.timestampNs) };
}

export function wireSampleView(s: WireSample): MetricValueView {
  const v = fromSampleValue(s.deleted ? undefined : s.value);
  const text = v.text ?? (v.value === null ? null : String(v.value));
  return metricValueView({ path: s.path, labels: s.labels, timestampNs: s.ts, ...v, text });
}
