import { z } from 'zod';
import { InputError } from '../errors.js';

/**
 * Reads a process's configuration from the environment through a zod schema, so a bad value
 * stops the process at start with the variable's name instead of failing later.
 */
export function readEnvConfig<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('; ');
    throw new InputError(`invalid configuration: ${problems}`, 'InvalidConfiguration');
  }
  return parsed.data;
}

/** `"10s"`, `"250ms"`, `"2m"`, `"1h"` → milliseconds; the duration format of the CRDs. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new InputError(`invalid duration "${text}": expected e.g. 500ms, 10s, 5m, 1h`);
  const n = Number(match[1]);
  const unit = match[2] as 'ms' | 's' | 'm' | 'h';
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
}

export const portSchema = z.coerce.number().int().min(0).max(65535);
