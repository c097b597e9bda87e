/**
 * The audio worker pod's entrypoint: `node --import tsx worker/src/audio/run.ts`.
 * Telemetry first, then the PostgreSQL result sink, then the Temporal workers until SIGTERM.
 * Migrations belong to the operator and the api; AUDIO_MIGRATE=true runs them here too (dev).
 */
import { z } from 'zod';
import { createDataSource, migrate } from '@switchforge/platform/db';
import { portSchema, readEnvConfig } from '@switchforge/platform/config';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { startTelemetry } from '@switchforge/platform/telemetry';

const Env = z.object({
  SWITCHFORGE_DATABASE_URL: z.string().min(1, 'the PostgreSQL URL results are written to'),
  SWITCHFORGE_DATABASE_SCHEMA: z.string().optional(),
  SWITCHFORGE_METRICS_PORT: portSchema.optional(),
  AUDIO_MIGRATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

async function main(): Promise<void> {
  const env = readEnvConfig(Env);
  const telemetry = await startTelemetry({
    serviceName: 'switchforge-audio-worker',
    runtimeMetrics: true,
    instrument: { pg: true },
    ...(env.SWITCHFORGE_METRICS_PORT !== undefined ? { prometheusPort: env.SWITCHFORGE_METRICS_PORT } : {}),
    // The pod's own address when known: pods that share a host network (the local pod runner) must not collide.
    prometheusHost: process.env.POD_IP || '0.0.0.0',
  });
  // Loaded after startTelemetry: @opentelemetry/api has no proxy meter provider, so instruments
  // created before the SDK is registered would stay no-ops forever.
  const { installTemporalMetrics } = await import('./temporal-metrics.js');
  // Before any Temporal connection: the Runtime is installed once per process.
  const temporalMetrics = installTemporalMetrics();
  const { runAudioWorkerProcess } = await import('./audio-process.js');
  const { PostgresResultSink } = await import('./result-sink-postgres.js');
  const db = {
    url: env.SWITCHFORGE_DATABASE_URL,
    ...(env.SWITCHFORGE_DATABASE_SCHEMA ? { schema: env.SWITCHFORGE_DATABASE_SCHEMA } : {}),
  };
  if (env.AUDIO_MIGRATE) log.info('migrated', { applied: await migrate(db) });
  const dataSource = createDataSource(db);
  await dataSource.initialize();
  try {
    // Returns after SIGTERM/SIGINT once running activities have stopped their Python children.
    await runAudioWorkerProcess({ resultSink: new PostgresResultSink(dataSource) });
  } finally {
    await dataSource.destroy();
    temporalMetrics.stop();
    await telemetry.shutdown();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log.error('audio worker failed', { error: errorMessage(e) });
    process.exit(1);
  },
);
