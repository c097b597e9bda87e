/**
 * A Device's telemetry outputs besides PostgreSQL (`spec.outputs`): the latest-value cache every
 * sample updates, the Prometheus endpoint and the OTLP exporter reading it. Applied in place on a
 * spec change, like subscriptions: a changed port or endpoint restarts only that output. This
 * module loads when a Device first turns an output on; the OTLP exporter and the metrics SDK load
 * only with an OTLP output.
 */
import { metrics } from '@opentelemetry/api';
import {
  anyOutputOn,
  DEFAULT_OUTPUT_MAX_SERIES,
  otlpOutput,
  prometheusOutputPort,
  type DeviceOutputs as DeviceOutputsSpec,
} from '@switchforge/platform/crd';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import type { Sample } from '../device/sample.js';
import { LatestValues } from './latest-values.js';
import type { OtlpOutput } from './otlp-output.js';
import { startPrometheusOutput, type PrometheusOutput } from './prometheus-output.js';

const meter = metrics.getMeter('switchforge-worker');
const seriesDropped = meter.createCounter('switchforge.worker.outputs.series.dropped', {
  description:
    'Samples of new series the outputs did not keep: the latest-value cache was at spec.outputs.maxSeries',
});
const stringsDropped = meter.createCounter('switchforge.worker.outputs.strings.dropped', {
  description: 'String samples the outputs dropped (spec.outputs.stringsAsLabels is off)',
});
const seriesHeld = meter.createObservableGauge('switchforge.worker.outputs.series', {
  description: 'Series in the latest-value cache of the Prometheus and OTLP outputs',
});

export interface DeviceOutputsOptions {
  /** `<namespace>/<name>`. */
  device: string;
  host: string;
}

/** What the outputs read of the worker's mounted Secrets. */
export interface OutputSecrets {
  otlpCaPem?: string;
}

export class DeviceOutputs {
  private cache: LatestValues | undefined;
  private cacheKey = '';
  private prometheus: { port: number; output: PrometheusOutput } | undefined;
  private otlp: { key: string; output: OtlpOutput } | undefined;
  private applying: Promise<void> = Promise.resolve();
  private active = false;

  constructor(private readonly options: DeviceOutputsOptions) {
    seriesHeld.addCallback((r) => r.observe(this.cache?.size ?? 0, { device: options.device }));
  }

  /** Only samples the worker collects as the Lease holder come here (the runner's gate). */
  record(samples: readonly Sample[]): void {
    if (this.active) this.cache?.record(samples);
  }

  /**
   * The worker lost its Lease: another collects now, and what this one holds is going stale.
   * The outputs serve nothing until samples come again, rather than frozen values a scrape
   * would take for live ones.
   */
  leaseLost(): void {
    this.cache?.clear();
  }

  /** Applies `spec.outputs`; resolves once the outputs run as it says (failures are logged). */
  configure(spec: DeviceOutputsSpec | undefined, secrets: OutputSecrets = {}): Promise<void> {
    this.applying = this.applying.then(() =>
      this.apply(spec, secrets).catch((e: unknown) =>
        log.error('applying spec.outputs failed', { device: this.options.device, error: errorMessage(e) }),
      ),
    );
    return this.applying;
  }

  close(): Promise<void> {
    return this.configure(undefined);
  }

  private async apply(spec: DeviceOutputsSpec | undefined, secrets: OutputSecrets): Promise<void> {
    const on = anyOutputOn({ outputs: spec });
    const maxSeries = spec?.maxSeries ?? DEFAULT_OUTPUT_MAX_SERIES;
    const key = JSON.stringify([spec?.metricPrefix ?? '', spec?.stringsAsLabels ?? false, maxSeries]);
    const device = this.options.device;
    if (!on) this.cache = undefined;
    else if (!this.cache || key !== this.cacheKey) {
      // Another naming or bound: start over; the next samples fill the new cache.
      this.cache = new LatestValues({
        maxSeries,
        ...(spec?.metricPrefix ? { prefix: spec.metricPrefix } : {}),
        ...(spec?.stringsAsLabels ? { stringsAsLabels: true } : {}),
        onSeriesDropped: (n) => seriesDropped.add(n, { device }),
        onStringsDropped: (n) => stringsDropped.add(n, { device }),
        onFamily: (family) => this.otlp?.output.addFamily(family),
      });
      this.cacheKey = key;
      // The OTLP instruments read the old cache's families: make them again.
      if (this.otlp) {
        await this.otlp.output.close();
        this.otlp = undefined;
      }
    }
    this.active = on;

    const port = prometheusOutputPort({ outputs: spec });
    if (this.prometheus && this.prometheus.port !== port) {
      await this.prometheus.output.close();
      this.prometheus = undefined;
    }
    if (port !== undefined && !this.prometheus) {
      const output = await startPrometheusOutput(() => this.cache!, { host: this.options.host, port });
      this.prometheus = { port, output };
      log.info('Prometheus output serving device telemetry', { device, port: output.port });
    }

    const otlp = otlpOutput({ outputs: spec });
    // A rotated CA starts the exporter again with it.
    const otlpKey = otlp ? JSON.stringify([otlp, secrets.otlpCaPem ?? '']) : '';
    if (this.otlp && this.otlp.key !== otlpKey) {
      await this.otlp.output.close();
      this.otlp = undefined;
    }
    if (otlp && !this.otlp && this.cache) {
      const { startOtlpOutput } = await import('./otlp-output.js');
      const caPem = secrets.otlpCaPem;
      this.otlp = {
        key: otlpKey,
        output: startOtlpOutput(this.cache, { ...otlp, device, maxSeries, ...(caPem ? { caPem } : {}) }),
      };
      log.info('OTLP output exporting device telemetry', { device, endpoint: otlp.endpoint });
    }
  }

  /** The Prometheus output's port, when it runs (port 0 in tests picks a free one). */
  get prometheusPort(): number | undefined {
    return this.prometheus?.output.port;
  }
}
