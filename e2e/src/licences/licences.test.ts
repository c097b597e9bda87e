import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { run } from '@switchforge/testkit/processes';
import { readyVenvPython, VENV_NOT_READY } from '../audio/venv-python.js';
import { exceptionFor, spdxAllowed, verdict } from './policy.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('the licence policy', () => {
  const cases: Array<[string, boolean]> = [
    ['MIT', true],
    ['(MIT OR GPL-3.0-only)', true],
    ['Apache-2.0 AND MIT', true],
    ['BSD-2-Clause AND Apache-2.0 WITH LLVM-exception', true],
    ['MIT AND GPL-2.0-only', false],
    ['AGPL-3.0-only', false],
    ['LGPL-3.0-or-later', false],
    ['SEE LICENSE IN LICENSE.md', false],
    ['', false],
  ];
  for (const [expression, allowed] of cases) {
    test(`${expression || '(no licence)'} is ${allowed ? 'allowed' : 'refused'}`, () =>
      assert.equal(spdxAllowed(expression), allowed));
  }
  test('weak copyleft passes only for the packages named with a reason', () => {
    assert.equal(verdict('lameenc', 'LGPL-3.0-or-later'), 'exception');
    assert.equal(verdict('some-gpl-lib', 'LGPL-3.0-or-later'), 'refused');
    assert.ok(exceptionFor('nvidia-cudnn-cu12'));
  });
});

interface NpmNode {
  name?: string;
  version?: string;
  license?: string | { type?: string };
  licenses?: Array<{ type?: string }>;
}

function npmLicence(node: NpmNode): string | undefined {
  if (typeof node.license === 'string') return node.license;
  if (node.license?.type) return node.license.type;
  const types = (node.licenses ?? []).map((l) => l.type).filter((t): t is string => !!t);
  return types.length > 0 ? types.join(' OR ') : undefined;
}

describe('what the images ship', () => {
  test('every production npm package of operator, worker, api and platform has a licence Apache-2.0 can ship', async () => {
    const query = await run('npm', ['query', '.workspace:not([name="@switchforge/e2e"]) .prod'], {
      cwd: root,
      timeoutMs: 120_000,
    });
    assert.equal(query.code, 0, query.stderr);
    const refused = (JSON.parse(query.stdout) as NpmNode[])
      .filter((n) => n.name && !n.name.startsWith('@switchforge/'))
      .map((n) => ({ id: `${n.name}@${n.version}`, name: n.name!, licence: npmLicence(n) }))
      // A package.json without a licence field: unionfs states the Unlicense in its LICENSE file.
      .map((p) => (p.name === 'unionfs' && p.licence === undefined ? { ...p, licence: 'Unlicense' } : p))
      .filter((p) => verdict(p.name, p.licence) === 'refused');
    assert.deepEqual(refused, []);
  });

  test('every Python distribution the audio image needs has a licence Apache-2.0 can ship, or a named reason', async (t) => {
    const python = readyVenvPython();
    if (!python) return t.skip(VENV_NOT_READY);
    const out = await run(
      python,
      [
        fileURLToPath(new URL('python-licences.py', import.meta.url)),
        `${root}python-workers/requirements.txt`,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(out.code, 0, out.stderr);
    const dists = JSON.parse(out.stdout) as Array<{ name: string; version: string; licence: string | null }>;
    assert.ok(
      dists.some((d) => d.name === 'demucs'),
      'the closure includes the separator',
    );
    const refused = dists.filter((d) => verdict(d.name, d.licence ?? undefined) === 'refused');
    assert.deepEqual(refused, []);
  });
});
