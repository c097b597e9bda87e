/**
 * A MeterProvider of its own that pushes over OTLP/HTTP: what a device worker's OTLP output
 * exports switch telemetry with, apart from the process's own metrics (the global provider of
 * `startTelemetry`), so device series and worker metrics never share a resource or a reader.
 * Imported lazily, only when a Device asks for an OTLP output (the worker module-graph test).
 */
import type { Meter } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';

export interface OtlpMetricsOptions {
  /** The receiver's base URL; `/v1/metrics` is appended. */
  endpoint: string;
  intervalMillis: number;
  /** Resource attributes (service.name and the like). */
  resource: Record<string, string>;
  /** Series per instrument the SDK keeps (its default is 2000). */
  cardinalityLimit: number;
  /** PEM: the CA an https receiver's certificate is verified against, instead of the system roots. */
  caPem?: string;
  /** After each export: whether the receiver took it. */
  onExport?: (ok: boolean, error?: Error) => void;
}

export interface OtlpMetrics {
  readonly meter: Meter;
  shutdown(): Promise<void>;
}

export function startOtlpMetrics(options: OtlpMetricsOptions): OtlpMetrics {
  const inner = new OTLPMetricExporter({
    url: `${options.endpoint.replace(/\/$/, '')}/v1/metrics`,
    ...(options.caPem ? { httpAgentOptions: { ca: options.caPem } } : {}),
  });
  const exporter: PushMetricExporter = {
    export: (metrics, done) =>
      inner.export(metrics, (result) => {
        options.onExport?.(result.code === 0, result.error);
        done(result);
      }),
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: (kind) => inner.selectAggregationTemporality(kind),
  };
  const limit = options.cardinalityLimit;
  const provider = new MeterProvider({
    resource: resourceFromAttributes(options.resource),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: options.intervalMillis,
        exportTimeoutMillis: Math.min(options.intervalMillis, 30_000),
        cardinalityLimits: { observableCounter: limit, observableGauge: limit, default: limit },
      }),
    ],
  });
  return { meter: provider.getMeter('switchforge-device-telemetry'), shutdown: () => provider.shutdown() };
}
