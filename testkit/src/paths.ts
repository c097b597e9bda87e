import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Built binaries, venvs and downloads live outside the work tree and survive between runs. */
export const cacheDir = process.env.SWITCHFORGE_CACHE ?? join(homedir(), '.cache', 'switchforge');
export const binDir = join(cacheDir, 'bin');
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function binary(name: string): string {
  return join(binDir, name);
}
