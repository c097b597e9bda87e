import { startTelemetry } from '@switchforge/platform/telemetry';
import { log } from '@switchforge/platform/log';
import { readOperatorConfig } from './config.js';
import { loadKubeConfig, runOperator } from './operator.js';

const config = readOperatorConfig();
const telemetry = await startTelemetry({
  serviceName: 'switchforge-operator',
  prometheusPort: config.SWITCHFORGE_METRICS_PORT,
});
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
