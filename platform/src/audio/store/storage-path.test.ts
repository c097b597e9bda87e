import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioInputError } from '../input-error.js';
import { resolveInStorage } from './storage-path.js';

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

  describe('inside a namespace’s area', () => {
    before(async () => {
      await mkdir(join(root, 'namespaces', 'a', 'in'), { recursive: true });
      await mkdir(join(root, 'namespaces', 'b', 'in'), { recursive: true });
      await mkdir(join(root, 'models'), { recursive: true });
      await writeFile(join(root, 'namespaces', 'a', 'in', 'secret.wav'), 'a');
      await writeFile(join(root, 'models', 'htdemucs.th'), 'm');
      await writeFile(join(root, 'namespaces', 'b', 'in', 'own.wav'), 'b');
      // What someone with write access to B's area could plant: links out of it.
      await symlink(
        join(root, 'namespaces', 'a', 'in', 'secret.wav'),
        join(root, 'namespaces', 'b', 'in', 'link-to-a.wav'),
      );
      await symlink(join(root, 'namespaces', 'a'), join(root, 'namespaces', 'b', 'a-dir'));
      await symlink(join(root, 'models'), join(root, 'namespaces', 'b', 'models'));
      await symlink(join(root, 'namespaces', 'b', 'in'), join(root, 'namespaces', 'b', 'in-alias'));
    });

    const area = 'namespaces/b';
    for (const p of [
      'namespaces/b/in/link-to-a.wav',
      'namespaces/b/a-dir/in/secret.wav',
      'namespaces/b/models/htdemucs.th',
      'namespaces/a/in/secret.wav',
      'namespaces/b/../a/in/secret.wav',
      'models/htdemucs.th',
    ]) {
      it(`refuses ${p} for namespace b`, async () => {
        const err = await resolveInStorage(root, p, area).catch((e: unknown) => e);
        assert.ok(err instanceof AudioInputError && err.code === 'PathOutsideStorage', String(err));
      });
    }

    it('accepts b’s own files and links that stay inside b’s area', async () => {
      assert.equal(
        await resolveInStorage(root, 'namespaces/b/in/own.wav', area),
        join(root, 'namespaces/b/in/own.wav'),
      );
      assert.equal(
        await resolveInStorage(root, 'namespaces/b/in-alias/own.wav', area),
        join(root, 'namespaces/b/in-alias/own.wav'),
      );
    });
  });
});
