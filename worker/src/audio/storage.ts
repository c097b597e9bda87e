import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { AudioInputError } from './errors.js';
import { resolveInStorage } from './sources/storage.js';

/** Every job's files live under `jobs/<uid>/` in the storage root: `input/` and `stems/`. */
export const JOBS_DIR = 'jobs';
const UID = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

/** The storage prefix the operator puts in `outputPrefix` for a job. */
export function jobPrefix(jobUid: string): string {
  if (!UID.test(jobUid))
    throw new AudioInputError('InvalidArgument', `job uid ${JSON.stringify(jobUid)} is not a uid`);
  return `${JOBS_DIR}/${jobUid}`;
}

export interface JobDirs {
  readonly root: string;
  readonly input: string;
  readonly stems: string;
}

export class JobStorage {
  constructor(readonly root: string) {}

  /**
   * The job's directories, created. `outputPrefix` must lie under the job's own prefix so that
   * deleting the job (and the janitor) can find every file it wrote.
   */
  async dirsFor(job: { jobUid: string; outputPrefix: string }): Promise<JobDirs> {
    const own = jobPrefix(job.jobUid);
    // Normalized first, so `jobs/<uid>/../other` cannot pass the prefix check.
    const prefix = posix.normalize(job.outputPrefix).replace(/\/+$/, '');
    if (prefix !== own && !prefix.startsWith(`${own}/`)) {
      throw new AudioInputError(
        'InvalidArgument',
        `outputPrefix ${JSON.stringify(job.outputPrefix)} is not under ${own}/`,
      );
    }
    const root = await resolveInStorage(this.root, prefix);
    const dirs = { root, input: join(root, 'input'), stems: join(root, 'stems') };
    await mkdir(dirs.input, { recursive: true });
    await mkdir(dirs.stems, { recursive: true });
    return dirs;
  }

  /** Removes everything the job wrote; true when there was something to remove. */
  async removeJobFiles(jobUid: string): Promise<boolean> {
    const dir = await resolveInStorage(this.root, jobPrefix(jobUid));
    const existed = await stat(dir).then(
      () => true,
      () => false,
    );
    await rm(dir, { recursive: true, force: true });
    return existed;
  }

  /** Job prefixes present on the volume, with their last modification time. */
  async listJobs(): Promise<Array<{ uid: string; mtimeMs: number }>> {
    const base = join(this.root, JOBS_DIR);
    const names = await readdir(base).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    const out: Array<{ uid: string; mtimeMs: number }> = [];
    for (const uid of names) {
      const s = await stat(join(base, uid)).catch(() => undefined);
      if (s) out.push({ uid, mtimeMs: s.mtimeMs });
    }
    return out;
  }
}
