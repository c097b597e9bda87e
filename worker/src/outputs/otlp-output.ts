/**
 * The OTLP output: one observable instrument per metric family of the latest-value cache (an
 * ObservableCounter for counters, exported as a monotonic cumulative Sum; an ObservableGauge for
 * gauges and info series), read at each export, on a MeterProvider of its own. Loaded (with the
 * OTLP exporter and the metrics SDK) only when a Device configures an OTLP output.
 */
import { metrics as globalMetrics, type Observable } from '@opentelemetry/api';
import { startOtlpMetrics, type OtlpMetrics } from '@switchforge/platform/telemetry/otlp-metrics';
import { log } from '@switchforge/platform/log';
import type { LatestValues, MetricFamily } from './latest-values.js';

const ownMeter = globalMetrics.getMeter('switchforge-worker');
const exportsFailed = ownMeter.createCounter('switchforge.worker.outputs.otlp.exports.failed', {
  description:
    "OTLP exports of device telemetry that the collector did not take (the output's next export retries with the latest values)",
});

export interface OtlpOutputOptions {
  endpoint: string;
  intervalSeconds: number;
  device: string;
  maxSeries: number;
  /** The receiver's CA (spec.outputs.otlp.tls.caSecretRef, mounted). */
  caPem?: string;
}

export interface OtlpOutput {
  /** Makes the instrument of a family seen for the first time. */
  addFamily(family: MetricFamily): void;
  close(): Promise<void>;
}

export function startOtlpOutput(cache: LatestValues, options: OtlpOutputOptions): OtlpOutput {
  let lastError = '';
  const otlp: OtlpMetrics = startOtlpMetrics({
    endpoint: options.endpoint,
    intervalMillis: options.intervalSeconds * 1000,
    resource: { 'service.name': 'switchforge-device', 'switchforge.device': options.device },
    cardinalityLimit: options.maxSeries + 1,
    ...(options.caPem ? { caPem: options.caPem } : {}),
    onExport: (ok, error) => {
      if (ok) {
        lastError = '';
        return;
      }
      exportsFailed.add(1, { device: options.device });
      const message = error?.message ?? 'export failed';
      // Said once per cause, not every interval.
      if (message !== lastError) log.warn('OTLP export of device telemetry failed', { error: message });
      lastError = message;
    },
  });
  const made = new Map<string, Observable>();
  const addFamily = (family: MetricFamily) => {
    if (made.has(family.name)) return;
    const instrument =
      family.kind === 'counter'
        ? otlp.meter.createObservableCounter(family.name)
        : otlp.meter.createObservableGauge(family.name);
    instrument.addCallback((result) => {
      for (const s of family.series.values()) result.observe(s.value, s.labels);
    });
    made.set(family.name, instrument);
  };
  for (const family of cache.families()) addFamily(family);
  return { addFamily, close: () => otlp.shutdown() };
}
