/**
 * The run-time package graph: which `@switchforge/*` packages each package's sources (tests and
 * test support aside) import, that each is declared in its package.json, and that the graph has
 * no cycle: platform at the bottom, operator, worker and api beside each other on top of it.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['platform', 'operator', 'worker', 'api'] as const;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'test-support' || name === 'bench' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function importedPackages(pkg: string): Set<string> {
  const found = new Set<string>();
  for (const file of sources(join(root, pkg, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from '@switchforge\/([a-z0-9-]+)/g)) {
      if (m[1] !== pkg) found.add(m[1]!);
    }
  }
  return found;
}

const graph = new Map(PACKAGES.map((p) => [p as string, importedPackages(p)]));

test('each package imports only @switchforge packages it declares', () => {
  for (const [pkg, imports] of graph) {
    const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    const declared = Object.keys(manifest.dependencies ?? {});
    for (const dep of imports)
      assert.ok(declared.includes(`@switchforge/${dep}`), `${pkg} imports ${dep} undeclared`);
  }
});

test('the graph has no cycle, and the operator and the API do not import the worker', () => {
  assert.deepEqual([...graph.get('platform')!], [], 'platform imports none of the others');
  for (const pkg of ['operator', 'api', 'worker']) assert.deepEqual([...graph.get(pkg)!], ['platform'], pkg);
});
