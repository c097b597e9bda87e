import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioInputError } from './errors.js';
import { sweepOrphans } from './janitor.js';
import { JobStorage, jobPrefix } from './storage.js';

let root: string;
let storage: JobStorage;
const HOUR = 3_600_000;

describe('job storage and the janitor', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sf-janitor-'));
    storage = new JobStorage(root);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('lays a job out under jobs/<uid> and removes all of it', async () => {
    const dirs = await storage.dirsFor({ jobUid: 'job-a', outputPrefix: jobPrefix('job-a') });
    assert.equal(dirs.stems, join(root, 'jobs', 'job-a', 'stems'));
    await writeFile(join(dirs.stems, 'vocals.wav'), 'x');
    assert.equal(await storage.removeJobFiles('job-a'), true);
    assert.equal(await storage.removeJobFiles('job-a'), false);
  });

  it('refuses an output prefix outside the job and a uid that is a path', async () => {
    await assert.rejects(storage.dirsFor({ jobUid: 'job-b', outputPrefix: 'jobs/job-c' }), AudioInputError);
    await assert.rejects(
      storage.dirsFor({ jobUid: 'job-b', outputPrefix: 'jobs/job-b/../../etc' }),
      AudioInputError,
    );
    await assert.rejects(storage.removeJobFiles('../..'), AudioInputError);
  });

  it('removes prefixes of deleted jobs once they are old enough, keeping live and fresh ones', async () => {
    const now = Date.now();
    for (const uid of ['live', 'deleted', 'fresh-orphan'])
      await mkdir(join(root, 'jobs', uid, 'input'), { recursive: true });
    const old = new Date(now - 2 * HOUR);
    await utimes(join(root, 'jobs', 'live'), old, old);
    await utimes(join(root, 'jobs', 'deleted'), old, old);

    const removed = await sweepOrphans({ storage, liveUids: new Set(['live']), minAgeMs: HOUR, now });
    assert.deepEqual(removed, ['deleted']);
    assert.deepEqual((await readdir(join(root, 'jobs'))).sort(), ['fresh-orphan', 'live']);
  });
});
