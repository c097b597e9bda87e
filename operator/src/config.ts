import { z } from 'zod';
import { portSchema, readEnvConfig } from '@switchforge/platform/config';
import { APP_ROOT, DEFAULT_IMAGES, IMAGE_COMMANDS } from '@switchforge/platform/image-layout';

/** The device worker's container command: the image's compiled entry point (see IMAGE_COMMANDS). */
export const DEFAULT_WORKER_COMMAND = IMAGE_COMMANDS.deviceWorker;

/** A JSON-encoded environment value parsed by `inner`, its issues reported under the variable. */
const jsonOf = <T extends z.ZodTypeAny>(inner: T, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx): z.infer<T> => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
      const r = inner.safeParse(parsed);
      if (r.success) return r.data as z.infer<T>;
      for (const issue of r.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message });
      return z.NEVER;
    });

/** Where device workers may run (the chart's deviceWorker.nodeSelector and tolerations). */
const tolerationSchema = z
  .object({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict();

const schema = z.object({
  POD_NAME: z.string().default(`switchforge-operator-${process.pid}`),
  SWITCHFORGE_OPERATOR_NAMESPACE: z.string().default('switchforge-system'),
  /** Watch only this namespace (controller-runtime's namespaced cache); all namespaces when unset. */
  SWITCHFORGE_WATCH_NAMESPACE: z.string().optional(),
  SWITCHFORGE_HEALTH_PORT: portSchema.default(8081),
  SWITCHFORGE_METRICS_PORT: portSchema.default(9464),
  SWITCHFORGE_WORKER_IMAGE: z.string().default(DEFAULT_IMAGES.app),
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
  SWITCHFORGE_WORKER_WORKDIR: z.string().default(APP_ROOT),
  SWITCHFORGE_WORKER_PULL_POLICY: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  SWITCHFORGE_WORKER_NODE_SELECTOR: jsonOf(z.record(z.string(), z.string()), '{}'),
  SWITCHFORGE_WORKER_TOLERATIONS: jsonOf(z.array(tolerationSchema), '[]'),
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
