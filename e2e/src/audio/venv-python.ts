import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '@switchforge/testkit/processes';

export const pythonWorkers = fileURLToPath(new URL('../../../python-workers/', import.meta.url));

/**
 * The python of the venv `python-workers/setup.sh` builds, found the way setup.sh names it (hash
 * of the requirement files), never built here; undefined when it is not ready.
 */
export function readyVenvPython(): string | undefined {
  if (process.env.SWITCHFORGE_AUDIO_PYTHON) return process.env.SWITCHFORGE_AUDIO_PYTHON;
  const files = ['requirements.txt', 'requirements-dev.txt', 'constraints.txt'].map((f) =>
    join(pythonWorkers, f),
  );
  if (!existsSync(join(pythonWorkers, 'setup.sh')) || !files.every((f) => existsSync(f))) return undefined;
  const hash = createHash('sha256');
  for (const f of files) hash.update(readFileSync(f));
  const cache = process.env.SWITCHFORGE_CACHE ?? join(homedir(), '.cache', 'switchforge');
  const venv = join(cache, 'venv', `python-workers-${hash.digest('hex').slice(0, 12)}`);
  return existsSync(join(venv, '.complete')) ? join(venv, 'bin', 'python') : undefined;
}

export const VENV_NOT_READY =
  'python-workers venv not ready: run `bash python-workers/setup.sh` (or set SWITCHFORGE_AUDIO_PYTHON)';

/**
 * The python of the python-workers venv, built by `python-workers/setup.sh` if it is not there
 * yet (what the benchmarks need; tests use readyVenvPython and skip instead of building).
 */
export async function ensureVenvPython(timeoutMs: number): Promise<string> {
  const setup = await run('bash', [join(pythonWorkers, 'setup.sh')], { cwd: pythonWorkers, timeoutMs });
  if (setup.code !== 0)
    throw new Error(`python-workers/setup.sh exited ${setup.code}: ${setup.stderr.slice(-2000)}`);
  return join(setup.stdout.trim().split('\n').at(-1)!, 'bin', 'python');
}
