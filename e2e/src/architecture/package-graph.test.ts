/**
 * The package graph. At run time: which `@switchforge/*` packages each package's sources (tests and
 * test support aside) import, that each is declared in its package.json, and that the graph has
 * no cycle: platform at the bottom, operator, worker and api beside each other on top of it.
 * At test time (every file, tests and benchmarks included, dependencies and devDependencies): no
 * cycle either; the testkit (the real servers) imports none of ours and the simulators (the
 * simulated switches) only platform, so every package's tests may use both.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

/** Every workspace package, as the root package.json lists them. */
const WORKSPACES = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] })
  .workspaces;

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return allFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Static imports, dynamic `import()` and `import.meta.resolve()` of a `@switchforge/*` package. */
const PACKAGE_REFERENCE = /(?:from |import\(|import\.meta\.resolve\()'@switchforge\/([a-z0-9-]+)/g;

function testTimeImports(pkg: string): Set<string> {
  const found = new Set<string>();
  for (const file of allFiles(join(root, pkg, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(PACKAGE_REFERENCE))
      if (m[1] !== pkg) found.add(m[1]!);
  }
  return found;
}

const testTimeGraph = new Map(WORKSPACES.map((p) => [p, testTimeImports(p)]));

/** The first cycle found by a depth-first walk, as the list of packages along it; none: undefined. */
export function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const at = path.indexOf(node);
    if (at >= 0) return [...path.slice(at), node];
    if (done.has(node)) return undefined;
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(node);
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

test('the cycle finder names a cycle through devDependencies and finds none in a chain', () => {
  const chain = new Map([
    ['e2e', new Set(['worker', 'testkit'])],
    ['worker', new Set(['platform', 'testkit'])],
    ['testkit', new Set<string>()],
    ['platform', new Set(['testkit'])],
  ]);
  assert.equal(findCycle(chain), undefined);
  const cycle = new Map([...chain, ['testkit', new Set(['platform'])]]);
  assert.deepEqual(findCycle(cycle), ['platform', 'testkit', 'platform']);
});

test('at test time each package imports only @switchforge packages it declares (dependencies or devDependencies)', () => {
  for (const [pkg, imports] of testTimeGraph) {
    const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const declared = [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.devDependencies ?? {}),
    ];
    for (const dep of imports)
      assert.ok(declared.includes(`@switchforge/${dep}`), `${pkg} imports ${dep} undeclared`);
  }
});

test('the graph with tests has no cycle, the testkit imports none of our packages and the simulators only platform', () => {
  assert.ok(testTimeGraph.has('testkit'), 'the testkit is a workspace package');
  assert.deepEqual([...testTimeGraph.get('testkit')!], [], 'testkit imports none of the others');
  assert.ok(testTimeGraph.has('simulators'), 'the simulators are a workspace package');
  assert.deepEqual([...testTimeGraph.get('simulators')!], ['platform'], 'simulators import platform only');
  assert.equal(findCycle(testTimeGraph), undefined);
});

/** Relative specifiers of static imports, re-exports and dynamic `import()`. */
const RELATIVE_IMPORT = /(?:from |import\()'(\.{1,2}\/[^']*)'/g;

/** Each file's relative imports that leave its own package, as "file imports specifier". */
function relativeCrossings(): string[] {
  const crossings: string[] = [];
  for (const pkg of WORKSPACES) {
    const own = join(root, pkg);
    for (const file of allFiles(join(own, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
        const target = relative(own, resolve(dirname(file), m[1]!));
        if (target.startsWith('..')) crossings.push(`${relative(root, file)} imports ${m[1]}`);
      }
    }
  }
  return crossings;
}

test("no file imports another package's sources through a relative path", () => {
  assert.deepEqual(relativeCrossings(), [], 'import another package by its name (its package.json exports)');
});
