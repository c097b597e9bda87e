import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { AudioInputError } from '../errors.js';

/**
 * Resolves a storage-relative path inside `root`, refusing anything that leaves it: `..`
 * segments, absolute paths, NUL bytes, and symlinks (checked on the real path of the file or,
 * when it does not exist yet, of its nearest existing ancestor).
 */
export async function resolveInStorage(root: string, relPath: string): Promise<string> {
  if (relPath.includes('\0') || isAbsolute(relPath) || relPath.trim() === '') {
    throw outside(relPath);
  }
  const absRoot = resolve(root);
  const candidate = resolve(absRoot, relPath);
  if (!within(absRoot, candidate)) throw outside(relPath);
  const realRoot = await realpath(absRoot);
  const real = await realpathOfExistingAncestor(candidate);
  if (!within(realRoot, real)) throw outside(relPath);
  return candidate;
}

/** The storage-relative form of an absolute path under `root` (for results and history). */
export function toStorageRelative(root: string, absPath: string): string {
  const rel = relative(resolve(root), absPath);
  if (rel.startsWith('..') || isAbsolute(rel)) throw outside(absPath);
  return rel.split(sep).join('/');
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function realpathOfExistingAncestor(p: string): Promise<string> {
  let current = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(await realpath(current), ...rest.reverse());
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const parent = dirname(current);
      if (parent === current) throw e;
      rest.push(current.slice(parent.length + 1));
      current = parent;
    }
  }
}

function outside(p: string): AudioInputError {
  return new AudioInputError('PathOutsideStorage', `path ${JSON.stringify(p)} is outside the audio storage`);
}
