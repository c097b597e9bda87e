import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { NotFoundError } from '@switchforge/platform/errors';
import type { StemResult } from '@switchforge/platform/crd';
import { jobPrefix, keyWithin } from '@switchforge/platform/audio/storage-layout';
import type { ObjectStore } from '@switchforge/platform/audio/store/object-store';
import { openObjectStore, type StoreConfig } from '@switchforge/platform/audio/store/store-config';
import { VolumeStore } from '@switchforge/platform/audio/store/volume-store';

/** The job a stem belongs to, as the API's cache has it. */
export interface StemOwner {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface StemLink {
  readonly url: string;
  /** Null for the API's own route, which checks the caller's token on every request. */
  readonly expiresAt: Date | null;
}

/** The download route's path for a stem; the only place it is spelled. */
export function stemRoutePath(owner: StemOwner, stem: string): string {
  const e = encodeURIComponent;
  return `/audio/v1/namespaces/${e(owner.namespace)}/audiojobs/${e(owner.name)}/stems/${e(stem)}`;
}
export const STEM_ROUTE = '/audio/v1/namespaces/:namespace/audiojobs/:name/stems/:stem';

/**
 * Where a client downloads a stem. Object storage: a presigned GET for exactly that key, valid a
 * short while. Volume: the API's route (same bearer token, same RBAC), which streams the file.
 * A stem whose key is not under its own job's prefix is refused: the status names the key, and
 * only the operator writes status, but the file served must be the job's own whatever it says.
 */
export class StemFiles {
  private constructor(
    readonly mode: 'volume' | 'object',
    private readonly volume: VolumeStore | undefined,
    private readonly bucket: ObjectStore | undefined,
    private readonly ttlS: number,
  ) {}

  /** `root`: the audio volume, mounted (read-only is enough) in the API. */
  static async open(config: StoreConfig, root: string | undefined, ttlS: number): Promise<StemFiles> {
    if (config.mode === 'object')
      return new StemFiles('object', undefined, await openObjectStore(config.s3, '/nonexistent'), ttlS);
    return new StemFiles('volume', root ? new VolumeStore(root) : undefined, undefined, ttlS);
  }

  async link(owner: StemOwner, stem: StemResult, origin: string): Promise<StemLink | null> {
    const key = ownKey(owner, stem);
    if (this.bucket) {
      const expiresAt = new Date(Date.now() + this.ttlS * 1000);
      return { url: await this.bucket.presignGet(key, this.ttlS, fileName(stem)), expiresAt };
    }
    if (!this.volume) return null;
    return { url: `${origin}${stemRoutePath(owner, stem.name)}`, expiresAt: null };
  }

  /** Volume mode: the stem's bytes. Throws NotFoundError when the file is not there. */
  async open(owner: StemOwner, stem: StemResult): Promise<{ stream: ReadStream; bytes: number }> {
    if (!this.volume) throw new NotFoundError('the API serves stems from the audio volume only');
    const key = ownKey(owner, stem);
    const path = await this.volume.localCopy(key, jobPrefix(owner.namespace, owner.uid)).catch(() => {
      throw new NotFoundError(`stem ${stem.name} of ${owner.namespace}/${owner.name} is not in storage`);
    });
    const { size } = await stat(path);
    return { stream: createReadStream(path), bytes: size };
  }

  close(): void {
    this.bucket?.close();
  }
}

export function fileName(stem: StemResult): string {
  return `${stem.name}.${stem.format ?? 'wav'}`;
}

function ownKey(owner: StemOwner, stem: StemResult): string {
  if (!keyWithin(jobPrefix(owner.namespace, owner.uid), stem.path))
    throw new NotFoundError(
      `stem ${stem.name} of ${owner.namespace}/${owner.name} is not in the job's storage`,
    );
  return stem.path;
}
