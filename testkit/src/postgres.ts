import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, waitFor } from './ports.js';
import { run } from './processes.js';

export interface PostgresInfo {
  dsn: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  dataDir: string;
  logFile: string;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** initdb refuses to run as root: root runs the server as Debian's `postgres` user. */
async function asServerUser(command: string, args: string[]): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const result = isRoot
    ? await run('runuser', ['-u', 'postgres', '--', command, ...args])
    : await run(command, args);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.code}): ${result.stderr || result.stdout}`,
    );
  }
}

function ownByServerUser(path: string): void {
  if (process.getuid?.() !== 0) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(path, uid, gid);
}

/** Starts PostgreSQL 15 (Debian's build) on a free loopback port in a throwaway data directory. */
export async function startPostgres(stateDir: string): Promise<PostgresInfo> {
  if (!existsSync(join(PG_BIN, 'postgres'))) {
    throw new Error(`PostgreSQL 15 is not installed at ${PG_BIN}: run e2e/bin/install-deps.sh`);
  }
  const dir = join(stateDir, 'postgres');
  mkdirSync(dir, { recursive: true });
  chmodSync(stateDir, 0o755);
  chmodSync(dir, 0o755);
  ownByServerUser(dir);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const user = 'switchforge';
  const password = randomBytes(12).toString('hex');
  const pwFile = join(dir, 'pwfile');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  ownByServerUser(pwFile);
  await asServerUser(join(PG_BIN, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    user,
    '--auth=scram-sha-256',
    `--pwfile=${pwFile}`,
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  const info: PostgresInfo = {
    host: '127.0.0.1',
    port,
    user,
    password,
    database: 'switchforge',
    dataDir,
    logFile,
    dsn: `postgres://${user}:${password}@127.0.0.1:${port}/switchforge`,
  };
  await pgCtl(info, 'start');
  const admin = new pg.Client({ host: info.host, port, user, password, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${info.database}`);
  } finally {
    await admin.end();
  }
  return info;
}

/**
 * Durability is traded for speed (fsync off): this server holds test and demo data only. The
 * options go to every start so that a restart keeps the same port.
 */
export async function pgCtl(info: PostgresInfo, action: 'start' | 'stop' | 'restart'): Promise<void> {
  const socketDir = join(info.dataDir, '..');
  const options = [
    `-p ${info.port}`,
    `-k ${socketDir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=300',
    '-c shared_buffers=256MB',
    '-c max_wal_size=2GB',
  ].join(' ');
  const args =
    action === 'stop'
      ? ['-D', info.dataDir, '-m', 'fast', '-w', 'stop']
      : ['-D', info.dataDir, '-l', info.logFile, '-o', options, '-w', '-t', '60', action];
  await asServerUser(join(PG_BIN, 'pg_ctl'), args);
  if (action !== 'stop') {
    await waitFor('postgres to accept connections', () => canQuery(info), 30_000);
  }
}

async function canQuery(info: PostgresInfo): Promise<boolean> {
  const client = new pg.Client({ connectionString: info.dsn.replace(/\/switchforge$/, '/postgres') });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function stopPostgres(info: PostgresInfo): Promise<void> {
  if (!existsSync(join(info.dataDir, 'postmaster.pid'))) return;
  await pgCtl(info, 'stop');
}
