import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioInputError } from '../errors.js';
import { resolveInStorage } from './storage.js';

let base: string;
let root: string;

describe('resolveInStorage', () => {
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'sf-storage-'));
    root = join(base, 'root');
    await mkdir(join(root, 'library'), { recursive: true });
    await writeFile(join(root, 'library', 'a.wav'), 'x');
    await writeFile(join(base, 'secret.txt'), 'secret');
    await symlink(base, join(root, 'escape'));
    await symlink(join(root, 'library'), join(root, 'alias'));
  });
  after(() => rm(base, { recursive: true, force: true }));

  const refused = [
    '../secret.txt',
    'library/../../secret.txt',
    '/etc/passwd',
    'escape/secret.txt',
    'escape/not-yet/created.wav',
    'library/\0.wav',
    '',
  ];
  for (const p of refused) {
    it(`refuses ${JSON.stringify(p)}`, async () => {
      const err = await resolveInStorage(root, p).catch((e: unknown) => e);
      assert.ok(err instanceof AudioInputError && err.code === 'PathOutsideStorage', String(err));
    });
  }

  it('accepts paths inside the root, existing or not, and symlinks that stay inside', async () => {
    assert.equal(await resolveInStorage(root, 'library/a.wav'), join(root, 'library', 'a.wav'));
    assert.equal(
      await resolveInStorage(root, 'jobs/u1/input/new.wav'),
      join(root, 'jobs', 'u1', 'input', 'new.wav'),
    );
    assert.equal(await resolveInStorage(root, 'alias/a.wav'), join(root, 'alias', 'a.wav'));
    assert.equal(await resolveInStorage(root, 'library/./x/../a.wav'), join(root, 'library', 'a.wav'));
  });
});
