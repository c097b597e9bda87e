/**
 * The compiled build (`npm run build`: tsc per workspace package into dist/, plus the Temporal
 * workflow bundle) runs with plain node, no tsx: what the images run, checked from the repository.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMPILED_CONDITION } from '@switchforge/platform/image-layout';
import { prebuiltWorkflowBundle } from '@switchforge/worker/audio/worker';
import { startApiProcess, type ApiProcess } from '../chart/api-process.js';
import { installCrds } from '../harness/platform-under-test.js';
import { repoRoot } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';
import { useInfra, type Infra } from '@switchforge/testkit';

const WORKSPACES = ['platform', 'worker', 'operator', 'api'];

/** Runs `node --conditions=production -e <code>` in the repository: compiled code only. */
const compiledNode = (code: string) =>
  run(process.execPath, [`--conditions=${COMPILED_CONDITION}`, '--input-type=module', '-e', code], {
    cwd: repoRoot,
  });

before(async () => {
  // Incremental: a warm tree compiles nothing.
  const built = await run('npm', ['run', 'build'], { cwd: repoRoot });
  assert.equal(built.code, 0, `npm run build:\n${built.stdout}\n${built.stderr}`);
});

describe('the compiled build', () => {
  test('maps every export of a workspace package to its compiled file under the production condition', () => {
    for (const pkg of WORKSPACES) {
      const manifest = JSON.parse(readFileSync(join(repoRoot, pkg, 'package.json'), 'utf8')) as {
        exports?: Record<string, string | Record<string, string>>;
      };
      for (const [path, target] of Object.entries(manifest.exports ?? {})) {
        assert.equal(typeof target, 'object', `${pkg} exports "${path}" with conditions, not one file`);
        const { production, default: source = '' } = target as Record<string, string | undefined>;
        assert.ok(
          source?.startsWith('./src/') && source.endsWith('.ts'),
          `${pkg} "${path}" default: the sources`,
        );
        assert.equal(production, source.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '.js'));
        // A subpath pattern (`./audio/*`) has its folder built; a plain export its file.
        const built = production.includes('*')
          ? production.slice(0, production.lastIndexOf('/'))
          : production;
        assert.ok(existsSync(join(repoRoot, pkg, built)), `${pkg}/${built} was built`);
      }
    }
  });

  test('loads the compiled packages with plain node, resolving workspace imports to dist/', async () => {
    const r = await compiledNode(`
      const { createRequire } = await import('node:module');
      const resolved = [
        import.meta.resolve('@switchforge/platform/db'),
        import.meta.resolve('@switchforge/worker/audio/client'),
      ];
      await import('@switchforge/platform/db');
      await import('./operator/dist/device/desired-deployment.js');
      await import('./worker/dist/audio/worker.js');
      console.log(JSON.stringify(resolved));`);
    assert.equal(r.code, 0, r.stderr);
    const resolved = JSON.parse(r.stdout.trim()) as string[];
    for (const url of resolved) assert.match(url, /\/dist\/.*\.js$/);
  });

  test('the audio worker finds the prebuilt workflow bundle beside its compiled code, never beside the sources', async () => {
    const r = await compiledNode(`
      const { prebuiltWorkflowBundle } = await import('./worker/dist/audio/worker.js');
      console.log(JSON.stringify(prebuiltWorkflowBundle() ?? null));`);
    assert.equal(r.code, 0, r.stderr);
    const bundle = JSON.parse(r.stdout.trim()) as { codePath: string } | null;
    assert.equal(bundle?.codePath, join(repoRoot, 'worker/dist/audio/workflow-bundle.js'));
    assert.match(readFileSync(bundle.codePath, 'utf8'), /audioJobWorkflow|defineQuery/);
    assert.equal(prebuiltWorkflowBundle(), undefined, 'the sources bundle at start (tests, npm run up)');
  });
});

describe('the compiled API', () => {
  let infra: Infra;
  let api: ApiProcess | undefined;
  before(async () => {
    infra = await useInfra({ postgres: true, kubernetes: true });
    // The API is ready once its Device and AudioJob informers have synced.
    await installCrds(infra);
  });
  after(async () => {
    await api?.stop();
    await infra?.stop();
  });

  test('starts with plain node against PostgreSQL and Kubernetes and answers /healthz and GraphQL', async () => {
    const schema = `compiled_${randomBytes(3).toString('hex')}`;
    api = await startApiProcess({
      kubeconfig: infra.kubernetes.kubeconfig,
      databaseUrl: infra.postgres.dsn,
      schema,
      entry: 'compiled',
    });
    const base = api.url.replace(/\/graphql$/, '');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    // Unauthenticated: the API answers with its own GraphQL error, so the whole server is up.
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    assert.ok(body.errors?.[0]?.extensions?.code, JSON.stringify(body));
  });
});
