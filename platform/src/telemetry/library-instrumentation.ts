/**
 * The maintained OpenTelemetry instrumentations for the libraries the API, the operator and the
 * audio worker use: `http` (`http.server.request.duration`, server spans) and `pg`
 * (`db.client.operation.duration`, `db.client.connection.count` and `.pending_requests`, query
 * spans). The device worker does not load them: its ingest path stays free of per-row cost.
 *
 * Our code is ESM, and these instrumentations patch modules as they are `require`d
 * (require-in-the-middle). Both libraries keep what they patch on shared objects (the http
 * Server prototype, pg's Client and pg-pool's Pool prototypes), so requiring each once through
 * the hook, after enabling, patches what the ESM importers already hold, without the
 * import-in-the-middle loader hook (which every process and image would need at start).
 */
import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';

export interface LibraryInstrumentationOptions {
  http?: boolean;
  pg?: boolean;
}

/** Paths whose requests are not worth a span or a histogram sample: scrapes and probes. */
const QUIET_PATHS = new Set(['/metrics', '/healthz', '/readyz', '/livez']);

export async function startLibraryInstrumentation(
  which: LibraryInstrumentationOptions,
  meterProvider: MeterProvider,
): Promise<{ disable(): void }> {
  const enabled: Instrumentation[] = [];
  const require = createRequire(import.meta.url);
  if (which.http) {
    const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
    enabled.push(
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
        // Outgoing requests of ours go through fetch (undici) or the Kubernetes client; spans for
        // them would only be noise between a reconcile and the workflow it starts.
        disableOutgoingRequestInstrumentation: true,
      }),
    );
  }
  if (which.pg) {
    const { PgInstrumentation } = await import('@opentelemetry/instrumentation-pg');
    // Every query, parent span or not: with requireParentSpan the instrumentation records no
    // duration either for a query outside a span (a maintenance loop's). Without an OTLP
    // endpoint the spans are the API's no-ops.
    enabled.push(new PgInstrumentation({ requireParentSpan: false }));
  }
  for (const instrumentation of enabled) {
    instrumentation.setMeterProvider(meterProvider);
    instrumentation.enable();
  }
  if (which.http) require('http');
  if (which.pg) {
    require('pg');
    createRequire(require.resolve('pg'))('pg-pool');
  }
  return { disable: () => enabled.forEach((i) => i.disable()) };
}
