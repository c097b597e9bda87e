/**
 * The API process: telemetry, database migrations, then the HTTP + graphql-ws server. SIGTERM
 * closes every WebSocket with 1001 (Going Away) so clients reconnect to another replica, then
 * drains HTTP and exits.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { migrate } from '@switchforge/platform/db';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { startTelemetry } from '@switchforge/platform/telemetry';
import { readStoreConfig } from '@switchforge/platform/audio/store/store-config';
import { readApiConfig } from './config.js';

async function main(): Promise<void> {
  const config = readApiConfig();
  const store = readStoreConfig();
  const telemetry = await startTelemetry({
    serviceName: 'switchforge-api',
    runtimeMetrics: true,
    // http.server.request.duration for GraphQL and the stem downloads; db.client.* for the pool.
    instrument: { http: true, pg: true },
    prometheusPort: config.SWITCHFORGE_METRICS_PORT,
  });
  // Loaded after startTelemetry: @opentelemetry/api has no proxy meter provider, so instruments
  // created before the SDK is registered would stay no-ops forever.
  const { startApiServer } = await import('./server.js');
  const database = {
    url: config.DATABASE_URL,
    ...(config.SWITCHFORGE_DB_SCHEMA ? { schema: config.SWITCHFORGE_DB_SCHEMA } : {}),
  };
  const applied = await migrate(database);
  if (applied.length > 0) log.info('migrations applied', { applied });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const server = await startApiServer({
    kubeConfig,
    database,
    // The pod's name (the chart sets POD_NAME from the Downward API): who holds presence rows.
    ...(process.env.POD_NAME ? { replicaId: process.env.POD_NAME } : {}),
    mode: config.SWITCHFORGE_API_MODE,
    host: config.SWITCHFORGE_API_HOST,
    port: config.SWITCHFORGE_API_PORT,
    limits: { maxDepth: config.SWITCHFORGE_API_MAX_DEPTH, maxCost: config.SWITCHFORGE_API_MAX_COST },
    rateLimit: {
      perSecond: config.SWITCHFORGE_API_RATE_PER_SECOND,
      burst: config.SWITCHFORGE_API_RATE_BURST,
    },
    live: { queueCapacity: config.SWITCHFORGE_API_SUBSCRIBER_QUEUE },
    workers: { livePort: config.SWITCHFORGE_LIVE_PORT },
    // Stems are served when the API can reach them: the bucket, or the volume mounted here.
    ...(store.mode === 'object' || config.AUDIO_STORAGE_ROOT
      ? {
          audioStorage: {
            config:
              store.mode === 'object' && config.AUDIO_S3_PUBLIC_ENDPOINT
                ? { ...store, s3: { ...store.s3, endpoint: config.AUDIO_S3_PUBLIC_ENDPOINT } }
                : store,
            ...(config.AUDIO_STORAGE_ROOT ? { root: config.AUDIO_STORAGE_ROOT } : {}),
            urlTtlS: config.AUDIO_STEM_URL_TTL,
          },
        }
      : {}),
    ...(config.SWITCHFORGE_API_PUBLIC_URL ? { publicUrl: config.SWITCHFORGE_API_PUBLIC_URL } : {}),
    ...(config.SWITCHFORGE_METRICS_RETENTION_DAYS !== undefined
      ? { metricsRetentionDays: config.SWITCHFORGE_METRICS_RETENTION_DAYS }
      : {}),
    ...(config.SWITCHFORGE_GRAPHIQL_ASSETS ? { graphiqlAssetsDir: config.SWITCHFORGE_GRAPHIQL_ASSETS } : {}),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const deadline = setTimeout(() => process.exit(1), (config.SWITCHFORGE_API_SHUTDOWN_GRACE + 5) * 1000);
    deadline.unref();
    await server.close(1001);
    await telemetry.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  log.error('api failed to start', { error: errorMessage(e) });
  process.exit(1);
});
