import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { AudioInputError } from '../input-error.js';

/**
 * Resolves a storage-relative path inside `root`, refusing anything that leaves it: `..`
 * segments, absolute paths, NUL bytes, and symlinks (checked on the real path of the file or,
 * when it does not exist yet, of its nearest existing ancestor). With `area` (a folder under the
 * root, a namespace's), the path must stay inside that folder too, on its real path: a symlink
 * from one namespace's area into another's, or to the model folder, is refused.
 */
export async function resolveInStorage(root: string, relPath: string, area?: string): Promise<string> {
  if (relPath.includes('\0') || isAbsolute(relPath) || relPath.trim() === '') {
    throw outside(relPath);
  }
  const absRoot = resolve(root);
  const fence = area === undefined ? absRoot : resolve(absRoot, area);
  const candidate = resolve(absRoot, relPath);
  if (!within(absRoot, fence) || !within(fence, candidate)) throw outside(relPath);
  // The fence's real path is derived from the root's, so a symlinked area is no way out either.
  const realRoot = await realpath(absRoot);
  const realFence = area === undefined ? realRoot : resolve(realRoot, relative(absRoot, fence));
  const real = await realpathOfExistingAncestor(candidate);
  if (!within(realFence, real)) throw outside(relPath);
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
