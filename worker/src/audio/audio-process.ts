/**
 * The audio worker process: Temporal workers for the audio pipeline, configured from the
 * environment. The OpenTelemetry SDK is started by the platform's telemetry bootstrap, not here.
 */
import { z } from 'zod';
import { NativeConnection } from '@temporalio/worker';
import { readEnvConfig, readTemporalTls } from '@switchforge/platform/config';
import { createActivities } from './activities.js';
import type { ResultSink } from './result-sink.js';
import { sourcePolicyFromEnv } from '@switchforge/platform/audio/source-address-policy';
import { DEFAULT_HTTP_LIMITS } from './sources/http.js';
import { SpotifyClient } from './sources/spotify.js';
import { previewUrlResolver, storageMirrorResolver } from './sources/track-audio.js';
import { ALL_ROLES, runAudioWorkers } from './worker.js';
import type { AudioWorkerRole } from './worker.js';

const Env = z.object({
  TEMPORAL_ADDRESS: z.string().min(1),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  AUDIO_STORAGE_ROOT: z.string().min(1),
  AUDIO_PYTHON: z.string().min(1),
  AUDIO_PYTHON_CWD: z.string().min(1),
  /** A folder of Demucs model files (offline clusters); models are downloaded when unset. */
  AUDIO_MODEL_REPO: z.string().optional(),
  AUDIO_ROLES: z
    .string()
    .default(ALL_ROLES.join(','))
    .transform((s) => s.split(',').map((r) => r.trim()))
    .pipe(z.array(z.enum(['workflows', 'download', 'process', 'analyze'])).min(1)),
  AUDIO_QUEUE_PREFIX: z.string().default(''),
  AUDIO_MAX_DOWNLOAD_BYTES: z.coerce.number().int().positive().default(DEFAULT_HTTP_LIMITS.maxBytes),
  AUDIO_ALLOWED_CONTENT_TYPES: z.string().default(DEFAULT_HTTP_LIMITS.allowedContentTypes.join(',')),
  SPOTIFY_CLIENT_ID: z.string().optional(),
  SPOTIFY_CLIENT_SECRET: z.string().optional(),
  SPOTIFY_ACCOUNTS_URL: z.string().url().optional(),
  SPOTIFY_API_URL: z.string().url().optional(),
  /** `preview` (30 s previews) or `storage:<prefix>` (a mirror on the volume). */
  SPOTIFY_AUDIO_RESOLVER: z.string().default('preview'),
});

export interface AudioWorkerMainOptions {
  readonly resultSink: ResultSink;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs until SIGTERM/SIGINT, then lets running activities stop their children. */
export async function runAudioWorkerProcess(opts: AudioWorkerMainOptions): Promise<void> {
  const env = readEnvConfig(Env, opts.env);
  const spotify =
    env.SPOTIFY_CLIENT_ID && env.SPOTIFY_CLIENT_SECRET
      ? new SpotifyClient({
          clientId: env.SPOTIFY_CLIENT_ID,
          clientSecret: env.SPOTIFY_CLIENT_SECRET,
          ...(env.SPOTIFY_ACCOUNTS_URL ? { accountsBaseUrl: env.SPOTIFY_ACCOUNTS_URL } : {}),
          ...(env.SPOTIFY_API_URL ? { apiBaseUrl: env.SPOTIFY_API_URL } : {}),
        })
      : undefined;
  const trackAudio = env.SPOTIFY_AUDIO_RESOLVER.startsWith('storage:')
    ? storageMirrorResolver(env.SPOTIFY_AUDIO_RESOLVER.slice('storage:'.length))
    : previewUrlResolver;

  // Read before connecting: a bad CIDR in the chart stops the worker with its name.
  const sourcePolicy = sourcePolicyFromEnv(opts.env ?? process.env);
  const tls = await readTemporalTls(opts.env);
  const connection = await NativeConnection.connect({
    address: env.TEMPORAL_ADDRESS,
    ...(tls ? { tls } : {}),
  });
  const workers = await runAudioWorkers({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    roles: env.AUDIO_ROLES as AudioWorkerRole[],
    queuePrefix: env.AUDIO_QUEUE_PREFIX,
    observeBacklog: true,
    activities: createActivities({
      storageRoot: env.AUDIO_STORAGE_ROOT,
      pythonPath: env.AUDIO_PYTHON,
      pythonCwd: env.AUDIO_PYTHON_CWD,
      ...(env.AUDIO_MODEL_REPO ? { modelRepo: env.AUDIO_MODEL_REPO } : {}),
      httpLimits: {
        ...DEFAULT_HTTP_LIMITS,
        maxBytes: env.AUDIO_MAX_DOWNLOAD_BYTES,
        allowedContentTypes: env.AUDIO_ALLOWED_CONTENT_TYPES.split(',').map((s) => s.trim()),
      },
      sourcePolicy,
      ...(spotify ? { spotify, trackAudio } : {}),
      resultSink: opts.resultSink,
    }),
  });
  const stop = (): void => void workers.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await workers.done;
  } finally {
    await connection.close();
  }
}
