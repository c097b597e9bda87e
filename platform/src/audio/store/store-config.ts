import { z } from 'zod';
import { readEnvConfig } from '../../config/index.js';
import type { AudioStore } from './audio-store.js';
import type { ObjectStore, ObjectStoreConfig } from './object-store.js';
import { VolumeStore } from './volume-store.js';

/** The variables every component that opens audio storage reads (worker, operator, API). */
export const STORE_ENV = {
  mode: 'AUDIO_STORAGE_MODE',
  endpoint: 'AUDIO_S3_ENDPOINT',
  bucket: 'AUDIO_S3_BUCKET',
  region: 'AUDIO_S3_REGION',
  forcePathStyle: 'AUDIO_S3_FORCE_PATH_STYLE',
  /** From the credentials Secret. */
  accessKeyId: 'AUDIO_S3_ACCESS_KEY_ID',
  secretAccessKey: 'AUDIO_S3_SECRET_ACCESS_KEY',
} as const;

const required = (what: string) => z.string().min(1, what).optional();

const Env = z
  .object({
    AUDIO_STORAGE_MODE: z.enum(['volume', 'object']).default('volume'),
    AUDIO_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    AUDIO_S3_BUCKET: required('the bucket'),
    AUDIO_S3_REGION: z.string().min(1).default('us-east-1'),
    AUDIO_S3_FORCE_PATH_STYLE: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    AUDIO_S3_ACCESS_KEY_ID: required('from the object storage credentials Secret'),
    AUDIO_S3_SECRET_ACCESS_KEY: required('from the object storage credentials Secret'),
  })
  .superRefine((e, ctx) => {
    if (e.AUDIO_STORAGE_MODE !== 'object') return;
    for (const k of [
      'AUDIO_S3_ENDPOINT',
      'AUDIO_S3_BUCKET',
      'AUDIO_S3_ACCESS_KEY_ID',
      'AUDIO_S3_SECRET_ACCESS_KEY',
    ] as const)
      if (!e[k])
        ctx.addIssue({ code: 'custom', path: [k], message: 'required with AUDIO_STORAGE_MODE=object' });
  });

export type StoreConfig =
  { readonly mode: 'volume' } | { readonly mode: 'object'; readonly s3: ObjectStoreConfig };

export function readStoreConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const e = readEnvConfig(Env, env);
  if (e.AUDIO_STORAGE_MODE === 'volume') return { mode: 'volume' };
  return {
    mode: 'object',
    s3: {
      endpoint: e.AUDIO_S3_ENDPOINT!,
      bucket: e.AUDIO_S3_BUCKET!,
      region: e.AUDIO_S3_REGION,
      forcePathStyle: e.AUDIO_S3_FORCE_PATH_STYLE,
      accessKeyId: e.AUDIO_S3_ACCESS_KEY_ID!,
      secretAccessKey: e.AUDIO_S3_SECRET_ACCESS_KEY!,
    },
  };
}

/**
 * The store a config names. `root`: the volume (volume mode) or a local scratch folder (object
 * mode). The S3 client is imported only in object mode, so volume installs never load it.
 */
export async function openStore(config: StoreConfig, root: string): Promise<AudioStore> {
  if (config.mode === 'volume') return new VolumeStore(root);
  return openObjectStore(config.s3, root);
}

export async function openObjectStore(config: ObjectStoreConfig, scratch: string): Promise<ObjectStore> {
  const { ObjectStore } = await import('./object-store.js');
  return new ObjectStore(config, scratch);
}
