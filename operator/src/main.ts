import { startTelemetry } from '@switchforge/platform/telemetry';
import { log } from '@switchforge/platform/log';
import { readOperatorConfig } from './config.js';

const config = readOperatorConfig();
const telemetry = await startTelemetry({
  serviceName: 'switchforge-operator',
  runtimeMetrics: true,
  prometheusPort: config.SWITCHFORGE_METRICS_PORT,
});
// Loaded after startTelemetry: @opentelemetry/api has no proxy meter provider, so instruments
// created before the SDK is registered would stay no-ops forever.
const { loadKubeConfig, runOperator } = await import('./operator.js');
const shutdown = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info('shutting down', { signal });
    shutdown.abort();
  });
}
const outcome = await runOperator(config, loadKubeConfig(), shutdown.signal);
await telemetry.shutdown();
// Losing leadership exits non-zero so Kubernetes restarts the pod as a fresh candidate.
process.exit(outcome === 'lost' ? 1 : 0);
