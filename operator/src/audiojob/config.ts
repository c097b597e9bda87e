import { z } from 'zod';
import { parseDuration, readEnvConfig, TEMPORAL_TLS_ENV } from '@switchforge/platform/config';
import {
  APP_ROOT,
  AUDIO_PYTHON,
  DEFAULT_IMAGES,
  AUDIO_PYTHON_CWD,
  IMAGE_COMMANDS,
} from '@switchforge/platform/image-layout';
import { SOURCE_POLICY_ENV, sourcePolicyFromEnv } from '@switchforge/platform/audio/source-address-policy';
import { STORE_ENV, readStoreConfig, type StoreConfig } from '@switchforge/platform/audio/store/store-config';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      try {
        return parseDuration(s);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
        return z.NEVER;
      }
    });

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((v) => v === 'true');

const jsonCommand = z
  .string()
  .default(JSON.stringify(IMAGE_COMMANDS.audioWorker))
  .transform((s, ctx) => {
    try {
      const parsed: unknown = JSON.parse(s);
      if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((p) => typeof p === 'string'))
        return parsed as string[];
    } catch {
      /* reported below */
    }
    ctx.addIssue({ code: 'custom', message: 'must be a non-empty JSON array of strings' });
    return z.NEVER;
  });

const optional = z
  .string()
  .optional()
  .transform((s) => (s ? s : undefined));

const schema = z
  .object({
    TEMPORAL_ADDRESS: z.string().min(1, 'host:port of the Temporal frontend'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    AUDIO_QUEUE_PREFIX: z.string().default(''),
    AUDIO_STORAGE_MODE: z.enum(['volume', 'object']).default('volume'),
    AUDIO_STORAGE_ROOT: z
      .string()
      .min(1, 'the audio volume, mounted in the operator too (job files are removed on delete)'),
    /** Watch one namespace only (tests); every namespace when unset. */
    AUDIO_WATCH_NAMESPACE: optional,
    AUDIO_RECONCILE_WORKERS: z.coerce.number().int().min(1).max(64).default(4),
    /** How often a Running job's progress is read from its workflow. */
    AUDIO_PROGRESS_POLL: duration('2s'),
    SWITCHFORGE_OPERATOR_NAMESPACE: z.string().min(1).default('switchforge-system'),

    AUDIO_POOL_ENABLED: flag('true'),
    AUDIO_POOL_NAMESPACE: optional,
    AUDIO_POOL_MIN_REPLICAS: z.coerce.number().int().min(0).max(1000).default(1),
    AUDIO_POOL_MAX_REPLICAS: z.coerce.number().int().min(1).max(1000).default(4),
    /** Scale up when the backlog per replica exceeds this many tasks. */
    AUDIO_POOL_BACKLOG_PER_REPLICA: z.coerce.number().positive().default(4),
    AUDIO_POOL_SCALE_DOWN_COOLDOWN: duration('5m'),
    AUDIO_POOL_INTERVAL: duration('15s'),
    AUDIO_WORKER_IMAGE: z.string().min(1).default(DEFAULT_IMAGES.audio),
    AUDIO_WORKER_PULL_POLICY: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
    AUDIO_WORKER_COMMAND: jsonCommand,
    AUDIO_WORKER_WORKDIR: z.string().min(1).default(APP_ROOT),
    AUDIO_WORKER_PYTHON: z.string().min(1).default(AUDIO_PYTHON),
    AUDIO_WORKER_PYTHON_CWD: z.string().min(1).default(AUDIO_PYTHON_CWD),
    /** A PersistentVolumeClaim mounted at AUDIO_STORAGE_ROOT in the workers; none: the path is the node's. */
    AUDIO_STORAGE_CLAIM: optional,
    /** A folder of Demucs model files in the workers (offline clusters); models download when unset. */
    AUDIO_WORKER_MODEL_REPO: optional,
    /**
     * The Secret (ca.crt, tls.crt, tls.key) the operator's own Temporal TLS files come from,
     * mounted the same way into the pool's workers. TEMPORAL_TLS_* point at the files.
     */
    TEMPORAL_TLS_SECRET: optional,
    TEMPORAL_TLS_CA_FILE: optional,
    TEMPORAL_TLS_CERT_FILE: optional,
    TEMPORAL_TLS_KEY_FILE: optional,
    TEMPORAL_TLS_SERVER_NAME: optional,
    /** Object storage: the Secret the workers' credentials come from, and its keys. */
    AUDIO_S3_CREDENTIALS_SECRET: optional,
    AUDIO_S3_ACCESS_KEY_ID_KEY: z.string().min(1).default('accessKeyId'),
    AUDIO_S3_SECRET_ACCESS_KEY_KEY: z.string().min(1).default('secretAccessKey'),
    /** How often orphaned job files and objects are swept, and how old they must be. */
    AUDIO_JANITOR_INTERVAL: duration('10m'),
    AUDIO_JANITOR_MIN_AGE: duration('1h'),
    AUDIO_WORKER_DATABASE_SECRET: z.string().min(1).default('switchforge-worker-database'),
    AUDIO_WORKER_DATABASE_SECRET_KEY: z.string().min(1).default('url'),
    OTEL_EXPORTER_OTLP_ENDPOINT: optional,
  })
  .refine((e) => e.AUDIO_POOL_MIN_REPLICAS <= e.AUDIO_POOL_MAX_REPLICAS, {
    message: 'AUDIO_POOL_MIN_REPLICAS must not exceed AUDIO_POOL_MAX_REPLICAS',
    path: ['AUDIO_POOL_MIN_REPLICAS'],
  })
  .refine(
    (e) => e.AUDIO_STORAGE_MODE !== 'object' || !e.AUDIO_POOL_ENABLED || e.AUDIO_S3_CREDENTIALS_SECRET,
    {
      message: 'object storage needs the credentials Secret the pool workers read',
      path: ['AUDIO_S3_CREDENTIALS_SECRET'],
    },
  )
  .refine((e) => !e.TEMPORAL_TLS_SECRET || e.TEMPORAL_TLS_CA_FILE || e.TEMPORAL_TLS_CERT_FILE, {
    message: 'names a Secret but no TEMPORAL_TLS_CA_FILE or TEMPORAL_TLS_CERT_FILE inside it',
    path: ['TEMPORAL_TLS_SECRET'],
  });

/** Where the pool's workers find the Temporal TLS files: the operator's own paths. */
export interface PoolTemporalTls {
  secretName: string;
  /** TEMPORAL_TLS_* variables, the same values the operator runs with. */
  env: Record<string, string>;
}

export interface PoolScaling {
  minReplicas: number;
  maxReplicas: number;
  /** Backlog tasks one replica is expected to absorb. */
  backlogPerReplica: number;
  /** Scale down by one replica at most this often (and not sooner after any scale). */
  scaleDownCooldownMs: number;
}

export interface PoolConfig {
  namespace: string;
  scaling: PoolScaling;
  intervalMs: number;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  command: string[];
  workingDir: string;
  pythonPath: string;
  pythonCwd: string;
  storageClaim?: string;
  databaseSecret: { name: string; key: string };
  otlpEndpoint?: string;
  modelRepo?: string;
  temporalTls?: PoolTemporalTls;
  /** AUDIO_SOURCE_* (what source URLs may reach), passed to the workers as set here. */
  sourcePolicyEnv: Record<string, string>;
  /** Object storage: the non-secret AUDIO_S3_* settings and where the credentials come from. */
  objectStorage?: {
    env: Record<string, string>;
    credentialsSecret: { name: string; accessKeyIdKey: string; secretAccessKeyKey: string };
  };
}

export interface AudioOperatorConfig {
  temporal: { address: string; namespace: string };
  /** The TEMPORAL_TLS_* variables that are set (files of a mounted Secret); empty: plaintext. */
  temporalTlsEnv: Record<string, string>;
  queuePrefix: string;
  storageRoot: string;
  /** Volume or bucket, as the workers use it (the finalizer and the janitor remove job files). */
  store: StoreConfig;
  janitor: { intervalMs: number; minAgeMs: number };
  watchNamespace?: string;
  reconcileWorkers: number;
  progressPollMs: number;
  /** Absent: the operator does not manage the worker pool. */
  pool?: PoolConfig;
}

export function readAudioOperatorConfig(env: NodeJS.ProcessEnv = process.env): AudioOperatorConfig {
  const e = readEnvConfig(schema, env);
  const store = readStoreConfig(env);
  sourcePolicyFromEnv(env); // a bad range fails here, at the operator's start, not in every worker
  const sourcePolicyEnv = Object.fromEntries(
    Object.values(SOURCE_POLICY_ENV).flatMap((k) => (env[k] ? [[k, env[k]]] : [])),
  );
  const temporalTlsEnv = Object.fromEntries(
    Object.values(TEMPORAL_TLS_ENV).flatMap((k) => (e[k] ? [[k, e[k]]] : [])),
  );
  return {
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE },
    temporalTlsEnv,
    queuePrefix: e.AUDIO_QUEUE_PREFIX,
    storageRoot: e.AUDIO_STORAGE_ROOT,
    store,
    janitor: { intervalMs: e.AUDIO_JANITOR_INTERVAL, minAgeMs: e.AUDIO_JANITOR_MIN_AGE },
    ...(e.AUDIO_WATCH_NAMESPACE ? { watchNamespace: e.AUDIO_WATCH_NAMESPACE } : {}),
    reconcileWorkers: e.AUDIO_RECONCILE_WORKERS,
    progressPollMs: e.AUDIO_PROGRESS_POLL,
    ...(e.AUDIO_POOL_ENABLED
      ? {
          pool: {
            namespace: e.AUDIO_POOL_NAMESPACE ?? e.SWITCHFORGE_OPERATOR_NAMESPACE,
            scaling: {
              minReplicas: e.AUDIO_POOL_MIN_REPLICAS,
              maxReplicas: e.AUDIO_POOL_MAX_REPLICAS,
              backlogPerReplica: e.AUDIO_POOL_BACKLOG_PER_REPLICA,
              scaleDownCooldownMs: e.AUDIO_POOL_SCALE_DOWN_COOLDOWN,
            },
            intervalMs: e.AUDIO_POOL_INTERVAL,
            image: e.AUDIO_WORKER_IMAGE,
            imagePullPolicy: e.AUDIO_WORKER_PULL_POLICY,
            command: e.AUDIO_WORKER_COMMAND,
            workingDir: e.AUDIO_WORKER_WORKDIR,
            pythonPath: e.AUDIO_WORKER_PYTHON,
            pythonCwd: e.AUDIO_WORKER_PYTHON_CWD,
            ...(e.AUDIO_STORAGE_CLAIM ? { storageClaim: e.AUDIO_STORAGE_CLAIM } : {}),
            databaseSecret: { name: e.AUDIO_WORKER_DATABASE_SECRET, key: e.AUDIO_WORKER_DATABASE_SECRET_KEY },
            ...(e.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
            ...(e.AUDIO_WORKER_MODEL_REPO ? { modelRepo: e.AUDIO_WORKER_MODEL_REPO } : {}),
            ...(e.TEMPORAL_TLS_SECRET
              ? { temporalTls: { secretName: e.TEMPORAL_TLS_SECRET, env: temporalTlsEnv } }
              : {}),
            sourcePolicyEnv,
            ...(store.mode === 'object' && e.AUDIO_S3_CREDENTIALS_SECRET
              ? {
                  objectStorage: {
                    env: {
                      [STORE_ENV.mode]: 'object',
                      [STORE_ENV.endpoint]: store.s3.endpoint,
                      [STORE_ENV.bucket]: store.s3.bucket,
                      [STORE_ENV.region]: store.s3.region,
                      [STORE_ENV.forcePathStyle]: String(store.s3.forcePathStyle),
                    },
                    credentialsSecret: {
                      name: e.AUDIO_S3_CREDENTIALS_SECRET,
                      accessKeyIdKey: e.AUDIO_S3_ACCESS_KEY_ID_KEY,
                      secretAccessKeyKey: e.AUDIO_S3_SECRET_ACCESS_KEY_KEY,
                    },
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}
