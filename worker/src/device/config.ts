import { z } from 'zod';
import { portSchema, readEnvConfig } from '@switchforge/platform/config';

const schema = z.object({
  SWITCHFORGE_DEVICE_NAME: z.string().min(1),
  SWITCHFORGE_DEVICE_NAMESPACE: z.string().min(1),
  POD_NAME: z.string().min(1),
  POD_IP: z.string().optional(),
  SWITCHFORGE_LEASE_NAME: z.string().min(1),
  SWITCHFORGE_LEASE_DURATION_SECONDS: z.coerce.number().int().min(2).max(300).default(8),
  SWITCHFORGE_DATABASE_URL: z.string().min(1),
  SWITCHFORGE_DATABASE_SCHEMA: z.string().optional(),
  SWITCHFORGE_HEALTH_PORT: portSchema.default(8080),
  SWITCHFORGE_METRICS_PORT: portSchema.default(9464),
  SWITCHFORGE_LIVE_PORT: portSchema.default(8090),
  SWITCHFORGE_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(5000),
  SWITCHFORGE_FLUSH_INTERVAL_MS: z.coerce.number().int().min(1).max(60_000).default(200),
  SWITCHFORGE_MAX_BUFFERED_SAMPLES: z.coerce.number().int().min(1000).default(200_000),
  SWITCHFORGE_WRITE_CONNECTIONS: z.coerce.number().int().min(1).max(16).default(2),
});

export type DeviceWorkerEnv = z.infer<typeof schema>;

export function readDeviceWorkerEnv(env: NodeJS.ProcessEnv = process.env): DeviceWorkerEnv {
  return readEnvConfig(schema, env);
}
