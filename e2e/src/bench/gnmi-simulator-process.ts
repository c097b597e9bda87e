import { join } from 'node:path';
import { repoRoot } from '@switchforge/testkit/paths';
import { startProcess, type BenchProcess } from './child-process.js';

export interface SimulatorProcess {
  readonly port: number;
  readonly process: BenchProcess;
  stop(): Promise<void>;
}

export const SIM_USERNAME = 'telemetry';
export const SIM_PASSWORD = 'bench-s3cret';

/**
 * The gNMI simulator in a process of its own, so that producing updates does not share the
 * measured process's event loop or core. Plaintext gRPC with username/password metadata.
 */
export async function startSimulatorProcess(options: {
  interfaces: number;
  /** Updates per second offered on each STREAM subscription; 0 follows the sample intervals. */
  rate: number;
  batchSize: number;
  logDir: string;
  name: string;
}): Promise<SimulatorProcess> {
  const proc = startProcess(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'simulators/src/gnmi/main.ts'),
      '--insecure',
      '--devices',
      '1',
      '--interfaces',
      String(options.interfaces),
      '--rate',
      String(options.rate),
      '--batch-size',
      String(options.batchSize),
      '--username',
      SIM_USERNAME,
      '--password',
      SIM_PASSWORD,
    ],
    { cwd: repoRoot, logFile: join(options.logDir, `${options.name}.log`) },
  );
  const line = await proc.waitForLine((l) => l.startsWith('{') && l.includes('"port"'), 60_000);
  const { port } = JSON.parse(line) as { port: number };
  return { port, process: proc, stop: () => proc.stop(5000) };
}
