/**
 * The API as the chart runs it: its own process from api/src/main.ts or its compiled api/dist/main.js (its own telemetry, so its
 * Prometheus endpoint carries only the API's instruments), on free loopback ports, its output in
 * a log file quoted when it fails to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_COMMANDS } from '@switchforge/platform/image-layout';
import { localCommand, type LocalCommandMode } from '../infra/local-command.js';
import { repoRoot } from '@switchforge/testkit/paths';
import { stopChild, tail } from '@switchforge/testkit/processes';
import { freePort, waitFor } from '@switchforge/testkit/ports';

export interface ApiProcess {
  /** The GraphQL endpoint (HTTP; graphql-ws on the same path). */
  url: string;
  /** host:port of its Prometheus /metrics endpoint. */
  metricsTarget: string;
  log(): string;
  stop(): Promise<void>;
  /** SIGKILL, as a node lost or an OOM kill ends it: no cleanup runs. */
  kill(): Promise<void>;
}

export async function startApiProcess(options: {
  kubeconfig: string;
  databaseUrl: string;
  schema: string;
  /** More SWITCHFORGE_API_* settings (rate limits, ...). */
  env?: Record<string, string>;
  /** The sources under tsx (default) or the compiled dist/ the image runs (after `npm run build`). */
  entry?: LocalCommandMode;
}): Promise<ApiProcess> {
  const [, ...args] = localCommand(IMAGE_COMMANDS.api, repoRoot, options.entry ?? 'source');
  const port = await freePort();
  const metricsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchforge-api-'));
  const logFile = join(dir, 'api.log');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      cwd: repoRoot,
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        KUBECONFIG: options.kubeconfig,
        DATABASE_URL: options.databaseUrl,
        SWITCHFORGE_DB_SCHEMA: options.schema,
        SWITCHFORGE_API_MODE: 'development',
        SWITCHFORGE_API_HOST: '127.0.0.1',
        SWITCHFORGE_API_PORT: String(port),
        SWITCHFORGE_METRICS_PORT: String(metricsPort),
        SWITCHFORGE_API_SHUTDOWN_GRACE: '1',
        ...options.env,
      },
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const log = () => tail(logFile, 40);
  const stop = async () => {
    await stopChild(child, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitFor('the API to be ready', async () => (await fetch(`${base}/readyz`)).ok, 90_000, 250),
      exited.then(() => {
        throw new Error(`the API exited (code ${child.exitCode}) before it was ready`);
      }),
    ]);
  } catch (e) {
    const text = log();
    await stop();
    throw new Error(`${(e as Error).message}\n${text}`);
  }
  const kill = async () => {
    child.kill('SIGKILL');
    await exited;
  };
  return { url: `${base}/graphql`, metricsTarget: `127.0.0.1:${metricsPort}`, log, stop, kill };
}
