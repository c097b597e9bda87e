import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioInputError } from './input-error.js';
import { sweepOrphans } from './janitor.js';
import { jobPrefix } from './storage-layout.js';
import { ownPrefix } from './store/job-prefix.js';
import { VolumeStore } from './store/volume-store.js';

let root: string;
let store: VolumeStore;
const HOUR = 3_600_000;

describe('job storage and the janitor', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sf-janitor-'));
    store = new VolumeStore(root);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('lays a job out under namespaces/<ns>/jobs/<uid> and removes all of it', async () => {
    const prefix = ownPrefix({ namespace: 'lab', jobUid: 'job-a', outputPrefix: jobPrefix('lab', 'job-a') });
    const stems = await store.workDir(`${prefix}/stems`);
    assert.equal(stems, join(root, 'namespaces', 'lab', 'jobs', 'job-a', 'stems'));
    await writeFile(join(stems, 'vocals.wav'), 'x');
    assert.equal(await store.removePrefix(prefix), true);
    assert.equal(await store.removePrefix(prefix), false);
  });

  it('refuses an output prefix outside the job, a namespace or uid that is a path', () => {
    const job = { namespace: 'lab', jobUid: 'job-b' };
    for (const outputPrefix of [
      'namespaces/lab/jobs/job-c',
      'namespaces/other/jobs/job-b',
      'namespaces/lab/jobs/job-b/../../../other/jobs/job-b',
      'jobs/job-b',
    ])
      assert.throws(() => ownPrefix({ ...job, outputPrefix }), AudioInputError, outputPrefix);
    assert.throws(() => jobPrefix('lab', '../..'), AudioInputError);
    assert.throws(() => jobPrefix('../lab', 'job-b'), AudioInputError);
  });

  it('removes prefixes of deleted jobs once their newest file is old enough, keeps live and fresh ones and inputs, and measures each namespace', async () => {
    const now = Date.now();
    const old = new Date(now - 2 * HOUR);
    const files: Array<[string, string, boolean]> = [
      ['namespaces/a/jobs/live/input/source.wav', 'xx', true],
      ['namespaces/a/jobs/deleted/stems/vocals.wav', 'xxxx', true],
      ['namespaces/b/jobs/fresh-orphan/input/source.wav', 'x', false],
      ['namespaces/b/in/track.wav', 'xxxxxxxx', true],
    ];
    for (const [key, body, isOld] of files) {
      const path = join(root, key);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, body);
      if (isOld) await utimes(path, old, old);
    }

    const { removed, usage } = await sweepOrphans({
      store,
      liveUids: new Set(['live']),
      minAgeMs: HOUR,
      now,
    });
    assert.deepEqual(removed, ['a/deleted']);
    assert.deepEqual((await readdir(join(root, 'namespaces', 'a', 'jobs'))).sort(), ['live']);
    assert.deepEqual((await readdir(join(root, 'namespaces', 'b', 'jobs'))).sort(), ['fresh-orphan']);
    assert.deepEqual(Object.fromEntries(usage), {
      a: { bytes: 2, objects: 1 },
      b: { bytes: 9, objects: 2 },
    });
  });
});
