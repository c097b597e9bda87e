import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { binary } from './paths.js';
import { canConnect, freePort, waitFor } from './ports.js';
import { startDetached, tail } from './processes.js';

export interface ObjectStoreInfo {
  /** http://127.0.0.1:<port>, the S3 API. */
  endpoint: string;
  region: string;
  /** The gateway's root account (tests create their own buckets with it). */
  accessKeyId: string;
  secretAccessKey: string;
  pid: number;
  logFile: string;
  dataDir: string;
}

/**
 * Versity Gateway (built from its Go module by e2e/infra/build-binaries.sh) serving a folder as
 * S3 with its posix backend; object metadata in a sidecar folder, so no xattrs are needed.
 */
export async function startObjectStore(stateDir: string): Promise<ObjectStoreInfo> {
  const dir = join(stateDir, 'objectstore');
  const dataDir = join(dir, 'data');
  const sidecar = join(dir, 'meta');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(sidecar, { recursive: true });
  const port = await freePort();
  const info = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: `sf${randomBytes(6).toString('hex')}`,
    secretAccessKey: randomBytes(18).toString('base64url'),
    logFile: join(dir, 'versitygw.log'),
    dataDir,
  };
  const pid = startDetached(
    binary('versitygw'),
    [
      '--port',
      `127.0.0.1:${port}`,
      '--access',
      info.accessKeyId,
      '--secret',
      info.secretAccessKey,
      '--region',
      info.region,
      'posix',
      '--sidecar',
      sidecar,
      dataDir,
    ],
    info.logFile,
  );
  await waitFor('versitygw', () => canConnect(port), 30_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${tail(info.logFile)}`);
  });
  return { ...info, pid };
}
