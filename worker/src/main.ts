/**
 * The worker image's entrypoint: `worker/src/main.ts device` runs one device's collector (the
 * operator starts one pod per Device with this command).
 */
import { startTelemetry } from '@switchforge/platform/telemetry';
import { log } from '@switchforge/platform/log';
import { errorMessage } from '@switchforge/platform/errors';
import { readDeviceWorkerEnv } from './device/config.js';

async function device(): Promise<void> {
  const env = readDeviceWorkerEnv();
  // Bind to the pod's own address when known (the local pod runner gives each pod its own).
  const host = env.POD_IP || '0.0.0.0';
  const telemetry = await startTelemetry({
    serviceName: 'switchforge-device-worker',
    prometheusPort: env.SWITCHFORGE_METRICS_PORT,
    prometheusHost: host,
  });
  // Loaded after startTelemetry: @opentelemetry/api has no proxy meter provider, so instruments
  // created before the SDK is registered would stay no-ops forever.
  const [{ runDeviceWorker }, { KubeConnection, loadKubeEndpoint }] = await Promise.all([
    import('./device/device-process.js'),
    import('./kube/kube-connection.js'),
  ]);
  const kube = new KubeConnection(await loadKubeEndpoint());
  const shutdown = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info('stopping: flushing, closing the session, releasing the lease', { signal });
      shutdown.abort();
    });
  }
  await runDeviceWorker(
    {
      namespace: env.SWITCHFORGE_DEVICE_NAMESPACE,
      name: env.SWITCHFORGE_DEVICE_NAME,
      podName: env.POD_NAME,
      leaseName: env.SWITCHFORGE_LEASE_NAME,
      leaseDurationSeconds: env.SWITCHFORGE_LEASE_DURATION_SECONDS,
      databaseUrl: env.SWITCHFORGE_DATABASE_URL,
      ...(env.SWITCHFORGE_DATABASE_SCHEMA ? { databaseSchema: env.SWITCHFORGE_DATABASE_SCHEMA } : {}),
      host,
      healthPort: env.SWITCHFORGE_HEALTH_PORT,
      livePort: env.SWITCHFORGE_LIVE_PORT,
      batchSize: env.SWITCHFORGE_BATCH_SIZE,
      flushIntervalMs: env.SWITCHFORGE_FLUSH_INTERVAL_MS,
      maxBufferedSamples: env.SWITCHFORGE_MAX_BUFFERED_SAMPLES,
      liveRingBytes: env.SWITCHFORGE_LIVE_RING_BYTES,
      memoryLimitBytes: env.SWITCHFORGE_MEMORY_LIMIT_BYTES,
      writeConnections: env.SWITCHFORGE_WRITE_CONNECTIONS,
    },
    kube,
    shutdown.signal,
  );
  kube.close();
  await telemetry.shutdown();
}

const mode = process.argv[2];
try {
  if (mode === 'device') await device();
  else
    throw new Error(
      `unknown mode "${mode ?? ''}": expected "device" (audio workers run worker/src/audio/run.ts)`,
    );
  process.exit(0);
} catch (e) {
  log.error('worker failed', { error: errorMessage(e), stack: e instanceof Error ? e.stack : undefined });
  process.exit(1);
}
