import { z } from 'zod';
import { InputError } from '../errors.js';

/**
 * Reads a process's configuration from the environment through a zod schema, so a bad value
 * stops the process at start with the variable's name instead of failing later.
 */
export function readEnvConfig<T extends z.ZodType>(
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`)
      .join('; ');
    throw new InputError(`invalid configuration: ${problems}`, 'InvalidConfiguration');
  }
  return parsed.data;
}

export { parseDuration } from '../crd/duration.js';

export const portSchema = z.coerce.number().int().min(0).max(65535);

export { readTemporalTls, TEMPORAL_TLS_ENV, type TemporalTls } from './temporal-tls.js';
