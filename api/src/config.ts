import { z } from 'zod';
import { parseDuration, portSchema, readEnvConfig } from '@switchforge/platform/config';
import { LIVE_PORT } from '@switchforge/platform/device-worker';

const envSchema = z.object({
  SWITCHFORGE_API_MODE: z.enum(['development', 'production']).default('production'),
  SWITCHFORGE_API_HOST: z.string().default('0.0.0.0'),
  SWITCHFORGE_API_PORT: portSchema.default(8080),
  SWITCHFORGE_METRICS_PORT: portSchema.default(9464),
  DATABASE_URL: z.string().min(1),
  SWITCHFORGE_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional(),
  /** The port device workers serve their live stream on. */
  SWITCHFORGE_LIVE_PORT: portSchema.default(LIVE_PORT),
  SWITCHFORGE_API_RATE_PER_SECOND: z.coerce.number().positive().default(50),
  SWITCHFORGE_API_RATE_BURST: z.coerce.number().int().positive().default(200),
  SWITCHFORGE_API_MAX_DEPTH: z.coerce.number().int().positive().default(8),
  SWITCHFORGE_API_MAX_COST: z.coerce.number().int().positive().default(5_000),
  SWITCHFORGE_API_SUBSCRIBER_QUEUE: z.coerce.number().int().positive().default(256),
  /** Directory holding @graphql-yoga/graphiql's dist, served in development mode. */
  SWITCHFORGE_GRAPHIQL_ASSETS: z.string().optional(),
  /** Days of metric history kept (whole day partitions are dropped); unset keeps everything. */
  SWITCHFORGE_METRICS_RETENTION_DAYS: z.coerce.number().int().positive().optional(),
  /** Seconds a closing replica gives open requests before it exits. */
  SWITCHFORGE_API_SHUTDOWN_GRACE: z.coerce.number().nonnegative().default(5),
  /** The API's origin as clients reach it (stem download links); the request's when unset. */
  SWITCHFORGE_API_PUBLIC_URL: z.url().optional(),
  /** The audio volume, mounted read-only (volume mode): stems are served from it. */
  AUDIO_STORAGE_ROOT: z.string().min(1).optional(),
  /** The S3 endpoint as clients outside the cluster reach it: presigned URLs name it. */
  AUDIO_S3_PUBLIC_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** How long a presigned stem URL is valid (object storage). */
  AUDIO_STEM_URL_TTL: z
    .string()
    .default('15m')
    .transform((s, ctx) => {
      try {
        return parseDuration(s) / 1000;
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
        return z.NEVER;
      }
    }),
});

export type ApiConfig = z.infer<typeof envSchema>;

export function readApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return readEnvConfig(envSchema, env);
}
