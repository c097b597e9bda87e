/**
 * The device worker's environment. Read without zod: the worker is one pod per device and the
 * schema library alone is ~4 MiB of its memory (see the module-graph test); the checks are the
 * same kind (required, integer in range, default) and report every bad variable by name.
 */
import { LIVE_PORT } from '@switchforge/platform/device-worker';
import { InputError } from '@switchforge/platform/errors';
import { WORKER_MEMORY_ENV } from '@switchforge/platform/worker-memory';

type Field =
  { kind: 'string'; optional?: true } | { kind: 'int'; min: number; max: number; default?: number };

const str = { kind: 'string' } as const;
const optionalStr = { kind: 'string', optional: true } as const;
const int = (min: number, max: number, def?: number) =>
  ({ kind: 'int', min, max, ...(def === undefined ? {} : { default: def }) }) as const;
const port = (def: number) => int(0, 65535, def);

const FIELDS = {
  SWITCHFORGE_DEVICE_NAME: str,
  SWITCHFORGE_DEVICE_NAMESPACE: str,
  POD_NAME: str,
  POD_IP: optionalStr,
  SWITCHFORGE_LEASE_NAME: str,
  SWITCHFORGE_LEASE_DURATION_SECONDS: int(2, 300, 8),
  SWITCHFORGE_DATABASE_URL: str,
  SWITCHFORGE_DATABASE_SCHEMA: optionalStr,
  SWITCHFORGE_HEALTH_PORT: port(8080),
  SWITCHFORGE_METRICS_PORT: port(9464),
  SWITCHFORGE_LIVE_PORT: port(LIVE_PORT),
  SWITCHFORGE_BATCH_SIZE: int(1, 100_000, 5000),
  SWITCHFORGE_FLUSH_INTERVAL_MS: int(1, 60_000, 200),
  [WORKER_MEMORY_ENV.maxBufferedSamples]: int(1000, Number.MAX_SAFE_INTEGER, 200_000),
  SWITCHFORGE_WRITE_CONNECTIONS: int(1, 16, 2),
  /** The container's memory limit (the operator's plan); 0: judge by the cgroup alone. */
  [WORKER_MEMORY_ENV.limitBytes]: int(0, Number.MAX_SAFE_INTEGER, 0),
  [WORKER_MEMORY_ENV.liveRingBytes]: int(1024 * 1024, Number.MAX_SAFE_INTEGER, 64 * 1024 * 1024),
} as const satisfies Record<string, Field>;

type Fields = typeof FIELDS;
export type DeviceWorkerEnv = {
  [K in keyof Fields as Fields[K] extends { optional: true } ? never : K]: Fields[K] extends { kind: 'int' }
    ? number
    : string;
} & {
  [K in keyof Fields as Fields[K] extends { optional: true } ? K : never]?: string;
};

export function readDeviceWorkerEnv(env: NodeJS.ProcessEnv = process.env): DeviceWorkerEnv {
  const out: Record<string, string | number> = {};
  const problems: string[] = [];
  for (const [name, field] of Object.entries(FIELDS) as Array<[string, Field]>) {
    const raw = env[name];
    if (field.kind === 'string') {
      if (raw !== undefined && raw !== '') out[name] = raw;
      else if (!field.optional) problems.push(`${name}: required`);
      continue;
    }
    if (raw === undefined || raw.trim() === '') {
      if (field.default === undefined) problems.push(`${name}: required`);
      else out[name] = field.default;
      continue;
    }
    const n = Number(raw);
    if (!Number.isInteger(n)) problems.push(`${name}: expected an integer, got ${JSON.stringify(raw)}`);
    else if (n < field.min || n > field.max)
      problems.push(`${name}: ${n} is outside ${field.min}..${field.max}`);
    else out[name] = n;
  }
  if (problems.length > 0) {
    throw new InputError(`invalid configuration: ${problems.join('; ')}`, 'InvalidConfiguration');
  }
  return out as DeviceWorkerEnv;
}
