/**
 * The Temporal SDK's own worker metrics (task slots, schedule-to-start latency, activity execution
 * latency, polls) through the process's OpenTelemetry pipeline. SDK Core records them into a
 * buffer; a timer drains it into OTel instruments of the same names, so they leave on the same
 * Prometheus endpoint and OTLP exporter as switchforge's own, with no second port or exporter.
 */
import { metrics, type Attributes, type Meter } from '@opentelemetry/api';
import type { Metric, MetricTags } from '@temporalio/common';
import { MetricsBuffer, Runtime, type BufferedMetricUpdate } from '@temporalio/worker';

type Recorder = (value: number, attributes: Attributes) => void;

/** Forwards buffered SDK metric updates to OTel instruments, creating each once per name. */
export class TemporalMetricsBridge {
  private readonly recorders = new Map<string, Recorder>();

  constructor(private readonly meter: Meter) {}

  forward(updates: Iterable<BufferedMetricUpdate>): void {
    for (const { metric, value, attributes } of updates) this.recorderFor(metric)(value, tags(attributes));
  }

  private recorderFor(metric: Metric): Recorder {
    let recorder = this.recorders.get(metric.name);
    if (recorder) return recorder;
    const options = {
      ...(metric.description ? { description: metric.description } : {}),
      ...(metric.unit ? { unit: metric.unit } : {}),
    };
    switch (metric.kind) {
      case 'counter': {
        const counter = this.meter.createCounter(metric.name, options);
        recorder = (v, a) => counter.add(v, a);
        break;
      }
      case 'up-down-counter': {
        const counter = this.meter.createUpDownCounter(metric.name, options);
        recorder = (v, a) => counter.add(v, a);
        break;
      }
      case 'gauge': {
        const gauge = this.meter.createGauge(metric.name, options);
        recorder = (v, a) => gauge.record(v, a);
        break;
      }
      case 'histogram': {
        const histogram = this.meter.createHistogram(metric.name, options);
        recorder = (v, a) => histogram.record(v, a);
        break;
      }
    }
    this.recorders.set(metric.name, recorder);
    return recorder;
  }
}

function tags(attributes: MetricTags): Attributes {
  return { ...attributes };
}

/**
 * Installs the Temporal Runtime with buffered metrics and drains the buffer every second. Call
 * once, after startTelemetry() and before any Temporal connection or Worker is created.
 */
export function installTemporalMetrics(intervalMs = 1_000): { stop(): void } {
  // Durations in seconds, as OpenTelemetry's semantic conventions measure them.
  const buffer = new MetricsBuffer({ maxBufferSize: 50_000, useSecondsForDurations: true });
  Runtime.install({ telemetryOptions: { metrics: { buffer } } });
  const bridge = new TemporalMetricsBridge(metrics.getMeter('temporalio-sdk-core'));
  const drain = () => bridge.forward(buffer.retrieveUpdates());
  const timer = setInterval(drain, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      drain();
    },
  };
}
