/**
 * What a device worker loads. One pod per device multiplies every module: these tests record
 * every module the worker's entrypoint and each protocol's collector resolve (a resolve hook,
 * test-support/record-modules.mjs) and name the packages that must stay out. Adding one of them
 * back to the worker's path (a static import of the operator's Kubernetes client, an SDK with
 * instrumentations, TypeORM at start) fails here, and its cost shows in `npm run bench -- ingest`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const recorder = here('./test-support/record-modules.mjs');

/** Packages (by name) that a process resolved after running `args`. */
async function packagesLoaded(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Set<string>> {
  return (await modulesLoaded(args, env)).packages;
}

/** Packages (by name) and the worker's own source files (under src/) a process resolved. */
async function modulesLoaded(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ packages: Set<string>; ownFiles: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-modules-'));
  const file = join(dir, 'modules.txt');
  try {
    await run(process.execPath, ['--import', 'tsx', '--import', recorder, ...args], {
      env: { ...process.env, ...env, SWITCHFORGE_RECORD_MODULES: file },
      cwd: here('..'),
    }).catch((e: { code?: number }) => {
      // The entrypoint exits 1 without a cluster to talk to; what it loaded by then is the point.
      if (typeof e.code !== 'number') throw e;
    });
    const urls = readFileSync(file, 'utf8').split('\n');
    const names = urls.flatMap((url) => {
      const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      return m ? [m[1]!] : [];
    });
    const src = new URL('./', import.meta.url).href;
    return {
      packages: new Set(names),
      ownFiles: urls.filter((u) => u.startsWith(src)).map((u) => u.slice(src.length)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Never in a device worker: the operator's and API's client, the ORM, workflows, schema libraries. */
const NEVER = [
  '@kubernetes/client-node',
  'typeorm',
  '@temporalio/worker',
  '@temporalio/client',
  '@temporalio/workflow',
  '@opentelemetry/sdk-node',
  '@opentelemetry/auto-instrumentations-node',
  'zod',
];

const workerEnv = {
  SWITCHFORGE_DEVICE_NAME: 'leaf1',
  SWITCHFORGE_DEVICE_NAMESPACE: 'lab',
  POD_NAME: 'leaf1-worker-0',
  SWITCHFORGE_LEASE_NAME: 'leaf1-collector',
  SWITCHFORGE_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  SWITCHFORGE_HEALTH_PORT: '0',
  SWITCHFORGE_METRICS_PORT: '0',
  SWITCHFORGE_LIVE_PORT: '0',
  POD_IP: '127.0.0.1',
  // No cluster: the entrypoint loads everything it loads at start, then stops at the Kubernetes config.
  KUBECONFIG: '',
  KUBERNETES_SERVICE_HOST: '',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
};

describe("the device worker's module graph", () => {
  test('the entrypoint loads no Kubernetes client library, ORM, Temporal, schema library, OTLP exporter or output', async () => {
    const { packages: loaded, ownFiles } = await modulesLoaded(['src/main.ts', 'device'], workerEnv);
    assert.ok(loaded.has('@opentelemetry/sdk-metrics'), 'the recording works: the metrics SDK is there');
    assert.ok(ownFiles.includes('device/config.ts'), `the recording sees own files: ${ownFiles.join(' ')}`);
    for (const pkg of [
      ...NEVER,
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/exporter-metrics-otlp-http',
      '@opentelemetry/sdk-trace-node',
    ]) {
      assert.ok(!loaded.has(pkg), `${pkg} is loaded at start`);
    }
    for (const pkg of ['@grpc/grpc-js', 'ssh2', 'fast-xml-parser', 'saxes', 'diff'])
      assert.ok(!loaded.has(pkg), `${pkg} is loaded before any Device asks for it`);
    assert.deepEqual(
      ownFiles.filter((f) => f.startsWith('outputs/')),
      [],
      'no output code before a Device turns an output on',
    );
  });

  const collectorOf = (plan: string) => [
    '--input-type=module',
    '-e',
    `await import(${JSON.stringify(here(plan))})`,
  ];

  test('a gNMI worker loads gRPC and protobufjs, and no SSH', async () => {
    const loaded = await packagesLoaded(collectorOf('./gnmi/plan.ts'));
    assert.ok(loaded.has('@grpc/grpc-js') && loaded.has('protobufjs'));
    for (const pkg of [...NEVER, 'ssh2', 'saxes']) assert.ok(!loaded.has(pkg), `${pkg} is loaded`);
  });

  test('the Prometheus output loads no package at all: it renders the text format itself', async () => {
    const loaded = await packagesLoaded(collectorOf('./outputs/device-outputs.ts'));
    // Both are loaded by every worker already: the OTel API (its own metrics) and the logger.
    assert.deepEqual(
      [...loaded].sort(),
      ['@opentelemetry/api', 'pino'],
      'the outputs without OTLP load only the OTel API and the logger',
    );
  });

  test('only an OTLP output loads the OTLP metrics exporter', async () => {
    const loaded = await packagesLoaded(collectorOf('./outputs/otlp-output.ts'));
    assert.ok(loaded.has('@opentelemetry/exporter-metrics-otlp-http'));
    for (const pkg of [...NEVER, '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/sdk-trace-node'])
      assert.ok(!loaded.has(pkg), `${pkg} is loaded`);
  });

  test('a NETCONF worker loads SSH, and no gRPC', async () => {
    const loaded = await packagesLoaded(collectorOf('./netconf/plan.ts'));
    assert.ok(loaded.has('ssh2'));
    for (const pkg of [...NEVER, '@grpc/grpc-js', 'protobufjs'])
      assert.ok(!loaded.has(pkg), `${pkg} is loaded`);
  });
});
