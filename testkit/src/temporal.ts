import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { binary } from './paths.js';
import { canConnect, freePort, waitFor } from './ports.js';
import { startDetached, tail } from './processes.js';

export interface TemporalInfo {
  address: string;
  namespace: string;
  uiPort: number;
  httpPort: number;
  metricsPort: number;
  pid: number;
  logFile: string;
  dbFile: string;
}

/** The Temporal CLI's dev server, headless, persisted to a SQLite file so a restart keeps workflows. */
export async function startTemporal(stateDir: string): Promise<TemporalInfo> {
  const dir = join(stateDir, 'temporal');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const info = {
    address: `127.0.0.1:${port}`,
    namespace: 'default',
    uiPort: await freePort(),
    httpPort: await freePort(),
    metricsPort: await freePort(),
    logFile: join(dir, 'temporal.log'),
    dbFile: join(dir, 'temporal.db'),
  };
  const pid = startTemporalProcess({ ...info, pid: 0 });
  await waitFor('temporal frontend', () => canConnect(port), 60_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${tail(info.logFile)}`);
  });
  return { ...info, pid };
}

export function startTemporalProcess(info: TemporalInfo): number {
  const port = Number(info.address.split(':')[1]);
  return startDetached(
    binary('temporal'),
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--http-port',
      String(info.httpPort),
      '--ui-port',
      String(info.uiPort),
      '--metrics-port',
      String(info.metricsPort),
      '--db-filename',
      info.dbFile,
      '--log-level',
      'warn',
      '--namespace',
      info.namespace,
      '--dynamic-config-value',
      'frontend.enableUpdateWorkflowExecution=true',
    ],
    info.logFile,
  );
}
