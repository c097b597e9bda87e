import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRealNodes, stopRealNodes, type RealNodes } from './nodes/real-nodes.js';
import { ensureImages } from './images.js';
import { startKubernetes, type KubernetesInfo } from './kubernetes.js';
import { startObjectStore, type ObjectStoreInfo } from './object-store.js';
import { startPostgres, stopPostgres, type PostgresInfo } from './postgres.js';
import { stopProcess } from './processes.js';
import { startTemporal, type TemporalInfo } from './temporal.js';

/** `nodes`: real nodes (testkit/src/nodes) joined to the control plane, which starts with them. */
export type Component = 'postgres' | 'kubernetes' | 'temporal' | 'objectstore' | 'nodes';

/** Real nodes of a cluster that also has kwok nodes carry a taint, so only pods meant for them land there. */
export const REAL_NODE_COUNT = 2;

/** Where each running server listens; persisted so that another process can use or stop them. */
export interface StackState {
  dir: string;
  postgres?: PostgresInfo;
  kubernetes?: KubernetesInfo;
  temporal?: TemporalInfo;
  objectstore?: ObjectStoreInfo;
  realNodes?: RealNodes;
}

const STATE_FILE = 'state.json';

/** Whether `state` has the component running (`nodes` are kept as `realNodes`). */
export function hasComponent(state: StackState | undefined, component: Component): boolean {
  return component === 'nodes' ? !!state?.realNodes : !!state?.[component];
}

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

export interface StackOptions {
  /**
   * Simulated (kwok) nodes beside the real ones; default 3. With none, the real nodes carry no
   * taint and take every pod, as a user's cluster does (`npm run up`).
   */
  kwokNodes?: number;
}

/** Starts the missing components, in parallel where they do not depend on each other. */
export async function startStack(
  state: StackState,
  components: readonly Component[],
  options: StackOptions = {},
): Promise<StackState> {
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
  const wantsNodes = components.includes('nodes') && !state.realNodes;
  if ((components.includes('kubernetes') || wantsNodes) && !state.kubernetes) {
    jobs.push(startKubernetes(state.dir, options.kwokNodes).then((k) => void (state.kubernetes = k)));
  }
  const images = wantsNodes ? ensureImages() : undefined;
  jobs.push(...(images ? [images.then(() => undefined)] : []));
  const results: PromiseSettledResult<void>[] = await Promise.allSettled(jobs);
  if (wantsNodes && !results.some((r) => r.status === 'rejected') && state.kubernetes && images) {
    const built = await images;
    try {
      state.realNodes = await startRealNodes(state.kubernetes, state.dir, {
        count: REAL_NODE_COUNT,
        images: [built.pause.archive, built.app.archive],
        pauseImage: built.pause.ref,
        // The kwok nodes take every other pod: only pods that tolerate this land on the real ones.
        taint: Object.keys(state.kubernetes.nodes).length > 0,
      });
    } catch (e) {
      results.push({ status: 'rejected', reason: e } satisfies PromiseRejectedResult);
    }
  }
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
  // The nodes first: their kubelets and DNS talk to the control plane until they are gone.
  if (state.realNodes) {
    // Said, not thrown: the control plane and databases still have to stop after it.
    await stopRealNodes(state.realNodes).catch((e: Error) => console.error(`warning: ${e.message}`));
  }
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
  if (options.removeDir) {
    // A pod's network namespace file can stay mounted a moment after its node stops: a leftover
    // folder under /tmp must not fail the suite that is done with it.
    try {
      rmSync(state.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {
      /* swept by the next `infra down` */
    }
  }
}
