import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AudioInputError } from '../input-error.js';
import { resolveInStorage } from './storage-path.js';
import type { AudioStore, StoredObject } from './audio-store.js';

/** Files on the shared volume: a key is a path under `root`, confined to it (and to an area). */
export class VolumeStore implements AudioStore {
  readonly kind = 'volume';

  constructor(readonly root: string) {}

  async workPath(key: string): Promise<string> {
    const path = await resolveInStorage(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    return path;
  }

  async workDir(prefix: string): Promise<string> {
    const path = await resolveInStorage(this.root, prefix);
    await mkdir(path, { recursive: true });
    return path;
  }

  commit(): Promise<void> {
    return Promise.resolve(); // written in place
  }

  async localCopy(key: string, area?: string): Promise<string> {
    const path = await resolveInStorage(this.root, key, area);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) throw new AudioInputError('SourceNotFound', `${key} does not exist in storage`);
    return path;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const base = await resolveInStorage(this.root, prefix);
    const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch(
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return [];
        throw e;
      },
    );
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const s = await stat(path).catch(() => undefined);
      if (s) yield { key: `${prefix}/${path.slice(base.length + 1)}`, bytes: s.size, mtimeMs: s.mtimeMs };
    }
  }

  async removePrefix(prefix: string): Promise<boolean> {
    const dir = await resolveInStorage(this.root, prefix);
    const existed = await stat(dir).then(
      () => true,
      () => false,
    );
    await rm(dir, { recursive: true, force: true });
    return existed;
  }
}
