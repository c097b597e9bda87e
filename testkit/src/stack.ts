import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubernetes, type KubernetesInfo } from './kubernetes.js';
import { startObjectStore, type ObjectStoreInfo } from './object-store.js';
import { startPostgres, stopPostgres, type PostgresInfo } from './postgres.js';
import { stopProcess } from './processes.js';
import { startTemporal, type TemporalInfo } from './temporal.js';

export type Component = 'postgres' | 'kubernetes' | 'temporal' | 'objectstore';

/** Where each running server listens; persisted so that another process can use or stop them. */
export interface StackState {
  dir: string;
  postgres?: PostgresInfo;
  kubernetes?: KubernetesInfo;
  temporal?: TemporalInfo;
  objectstore?: ObjectStoreInfo;
}

const STATE_FILE = 'state.json';

export function newStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchforge-'));
}

export function saveState(state: StackState): void {
  mkdirSync(state.dir, { recursive: true });
  writeFileSync(join(state.dir, STATE_FILE), JSON.stringify(state, null, 2));
}

export function loadState(dir: string): StackState | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

/** Starts the missing components, in parallel where they do not depend on each other. */
export async function startStack(state: StackState, components: readonly Component[]): Promise<StackState> {
  const jobs: Promise<void>[] = [];
  if (components.includes('postgres') && !state.postgres) {
    jobs.push(startPostgres(state.dir).then((pg) => void (state.postgres = pg)));
  }
  if (components.includes('temporal') && !state.temporal) {
    jobs.push(startTemporal(state.dir).then((t) => void (state.temporal = t)));
  }
  if (components.includes('objectstore') && !state.objectstore) {
    jobs.push(startObjectStore(state.dir).then((o) => void (state.objectstore = o)));
  }
  if (components.includes('kubernetes') && !state.kubernetes) {
    jobs.push(startKubernetes(state.dir).then((k) => void (state.kubernetes = k)));
  }
  const results = await Promise.allSettled(jobs);
  saveState(state);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopStack(state);
    throw failed.reason;
  }
  return state;
}

export async function stopStack(state: StackState, options: { removeDir?: boolean } = {}): Promise<void> {
  const stops: Promise<void>[] = [];
  if (state.kubernetes) {
    const k = state.kubernetes;
    const pids = [
      ...Object.values(k.nodes),
      ...Object.entries(k.pids)
        .filter(([n]) => n !== 'etcd')
        .map(([, p]) => p),
    ];
    stops.push(
      Promise.all(pids.map((p) => stopProcess(p))).then(() =>
        k.pids.etcd ? stopProcess(k.pids.etcd) : undefined,
      ),
    );
  }
  if (state.temporal) stops.push(stopProcess(state.temporal.pid));
  if (state.objectstore) stops.push(stopProcess(state.objectstore.pid));
  if (state.postgres) stops.push(stopPostgres(state.postgres).catch(() => undefined));
  await Promise.all(stops);
  if (options.removeDir) rmSync(state.dir, { recursive: true, force: true });
}
