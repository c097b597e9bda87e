import { z } from 'zod';
import { portSchema, readEnvConfig } from '@switchforge/platform/config';

/**
 * The device worker's container command. Its V8 flags are not here: the operator sets
 * NODE_OPTIONS per worker from the Device's memory plan (platform/src/worker-memory.ts), a small
 * young generation for a quiet switch and a large one for a firehose.
 */
export const DEFAULT_WORKER_COMMAND = ['node', '--import', 'tsx', 'worker/src/main.ts', 'device'] as const;

const schema = z.object({
  POD_NAME: z.string().default(`switchforge-operator-${process.pid}`),
  SWITCHFORGE_OPERATOR_NAMESPACE: z.string().default('switchforge-system'),
  /** Watch only this namespace (controller-runtime's namespaced cache); all namespaces when unset. */
  SWITCHFORGE_WATCH_NAMESPACE: z.string().optional(),
  SWITCHFORGE_HEALTH_PORT: portSchema.default(8081),
  SWITCHFORGE_METRICS_PORT: portSchema.default(9464),
  SWITCHFORGE_WORKER_IMAGE: z.string().default('ghcr.io/switchforge/switchforge:0.1.0'),
  SWITCHFORGE_WORKER_COMMAND: z
    .string()
    .default(JSON.stringify(DEFAULT_WORKER_COMMAND))
    .transform((s, ctx) => {
      try {
        const parsed: unknown = JSON.parse(s);
        if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed as string[];
      } catch {
        /* reported below */
      }
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of strings' });
      return z.NEVER;
    }),
  SWITCHFORGE_WORKER_WORKDIR: z.string().default('/app'),
  SWITCHFORGE_WORKER_PULL_POLICY: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  SWITCHFORGE_WORKER_DATABASE_URL: z.string().min(1, 'the database URL device workers write to'),
  SWITCHFORGE_WORKER_LEASE_SECONDS: z.coerce.number().int().min(2).max(120).default(8),
  SWITCHFORGE_LEADER_LEASE_SECONDS: z.coerce.number().int().min(2).max(120).default(15),
  SWITCHFORGE_RECONCILE_WORKERS: z.coerce.number().int().min(1).max(64).default(16),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
});

export type OperatorConfig = z.infer<typeof schema>;

export function readOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  return readEnvConfig(schema, env);
}
