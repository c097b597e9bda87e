/**
 * OpenTelemetry bootstrap for every switchforge process: metrics on a Prometheus endpoint and,
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set, metrics and traces over OTLP/HTTP. Modules only use
 * `@opentelemetry/api`; this is called once by each process entrypoint, before anything else.
 */
import { createServer, type Server } from 'node:http';
import { metrics, trace } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes, envDetector, detectResources } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { LibraryInstrumentationOptions } from './library-instrumentation.js';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Port of the Prometheus scrape endpoint (`/metrics`); 0 picks a free one; undefined disables. */
  prometheusPort?: number;
  prometheusHost?: string;
  otlpEndpoint?: string;
  /**
   * The Node.js runtime's semantic-convention metrics (`nodejs.eventloop.delay.*`,
   * `nodejs.eventloop.utilization`, `v8js.memory.heap.*`, `v8js.gc.duration`). Off by default:
   * a device worker (one per switch) leaves the instrumentation's modules out of its memory.
   */
  runtimeMetrics?: boolean;
  /** The http and pg instrumentations (library-instrumentation.ts); off by default, as above. */
  instrument?: LibraryInstrumentationOptions;
}

export interface Telemetry {
  /** The port the Prometheus endpoint listens on, when enabled. */
  prometheusPort?: number;
  shutdown(): Promise<void>;
}

export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  // OTEL_RESOURCE_ATTRIBUTES carries the Downward-API pod, node and namespace of a worker.
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName,
    [ATTR_SERVICE_VERSION]: options.serviceVersion ?? '0.1.0',
  }).merge(detectResources({ detectors: [envDetector] }));

  const readers: MetricReader[] = [];
  let prometheus: PrometheusExporter | undefined;
  let prometheusPort: number | undefined;
  let server: Server | undefined;
  if (options.prometheusPort !== undefined) {
    // Our own listener, because the exporter reads port 0 as "the default 9464".
    prometheus = new PrometheusExporter({ preventServerStart: true });
    const exporter = prometheus;
    server = createServer((req, res) => {
      if (req.url?.split('?')[0] === '/metrics') exporter.getMetricsRequestHandler(req, res);
      else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    const listening = server;
    await new Promise<void>((res, rej) => {
      listening.once('error', rej);
      listening.listen(options.prometheusPort, options.prometheusHost ?? '0.0.0.0', () => res());
    });
    const address = server.address();
    prometheusPort = address && typeof address === 'object' ? address.port : options.prometheusPort;
    readers.push(prometheus);
  }
  const otlpEndpoint = options.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  // The OTLP exporters and the trace SDK load only when there is somewhere to send to: a device
  // worker without an OTLP endpoint keeps them out of its memory (see the worker module-graph test).
  const otlp = otlpEndpoint
    ? await Promise.all([
        import('@opentelemetry/exporter-metrics-otlp-http'),
        import('@opentelemetry/exporter-trace-otlp-http'),
        import('@opentelemetry/sdk-metrics'),
        import('@opentelemetry/sdk-trace-base'),
        import('@opentelemetry/sdk-trace-node'),
      ])
    : undefined;
  if (otlp && otlpEndpoint) {
    const [{ OTLPMetricExporter }, , { PeriodicExportingMetricReader }] = otlp;
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${otlpEndpoint.replace(/\/$/, '')}/v1/metrics` }),
        exportIntervalMillis: 15_000,
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);
  const runtime = options.runtimeMetrics ? await startRuntimeMetrics(meterProvider) : undefined;

  // Without a span exporter the API's no-op tracer is what a tracer provider would amount to.
  let tracerProvider: { shutdown(): Promise<void> } | undefined;
  if (otlp && otlpEndpoint) {
    const [, { OTLPTraceExporter }, , { BatchSpanProcessor }, { NodeTracerProvider }] = otlp;
    const provider = new NodeTracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor(
          new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, '')}/v1/traces` }),
        ),
      ],
    });
    provider.register();
    tracerProvider = provider;
  }

  // After the tracer provider: the instrumentations take the global one for their spans.
  const libraries =
    options.instrument && (options.instrument.http || options.instrument.pg)
      ? await (
          await import('./library-instrumentation.js')
        ).startLibraryInstrumentation(options.instrument, meterProvider)
      : undefined;

  return {
    ...(prometheusPort === undefined ? {} : { prometheusPort }),
    shutdown: async () => {
      runtime?.disable();
      libraries?.disable();
      await Promise.allSettled([meterProvider.shutdown(), tracerProvider?.shutdown()]);
      await new Promise((res) => (server ? server.close(res) : res(undefined)));
      metrics.disable();
      trace.disable();
    },
  };
}

/** Event-loop delay at the instrumentation's default 10 ms resolution (a native libuv timer). */
async function startRuntimeMetrics(meterProvider: MeterProvider): Promise<{ disable(): void }> {
  const { RuntimeNodeInstrumentation } = await import('@opentelemetry/instrumentation-runtime-node');
  const instrumentation = new RuntimeNodeInstrumentation();
  instrumentation.setMeterProvider(meterProvider);
  instrumentation.enable();
  return instrumentation;
}
