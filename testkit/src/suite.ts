import { kubectl, type KubernetesInfo } from './kubernetes.js';
import {
  hasComponent,
  loadState,
  newStateDir,
  startStack,
  stopStack,
  type Component,
  type StackState,
} from './stack.js';
import type { PostgresInfo } from './postgres.js';
import type { ObjectStoreInfo } from './object-store.js';
import type { TemporalInfo } from './temporal.js';
import type { CommandResult } from './processes.js';
import type { RealNodes } from './nodes/real-nodes.js';

/** The env var through which the test command hands its running servers to every test file. */
export const STATE_ENV = 'SWITCHFORGE_INFRA_STATE';

export interface KubernetesHandle extends KubernetesInfo {
  kubectl(args: string[], input?: string): Promise<CommandResult>;
}

export interface Infra {
  kubernetes: KubernetesHandle;
  postgres: PostgresInfo;
  temporal: TemporalInfo;
  /** Versity Gateway, an S3-compatible store. */
  objectstore: ObjectStoreInfo;
  /** Real nodes (kubelet, containerd) joined to `kubernetes`; tainted when kwok nodes are there too. */
  realNodes: RealNodes;
  state: StackState;
  /** Stops what this call started; servers shared through STATE_ENV are left running. */
  stop(): Promise<void>;
}

/**
 * Gives a test suite the real servers it needs. Under `npm test` they were started once for the
 * whole run and are shared (suites isolate by namespace, database schema, task queue); a test
 * file run on its own, or one asking for `dedicated` servers, starts its own and stops them in
 * `stop()`.
 */
export async function useInfra(
  needs: { [K in Component]?: boolean },
  options: { dedicated?: boolean } = {},
): Promise<Infra> {
  const components = (Object.keys(needs) as Component[]).filter((c) => needs[c]);
  // A suite that stops or restarts a server gets its own, so it cannot disturb others.
  const sharedDir = options.dedicated ? undefined : process.env[STATE_ENV];
  const shared = sharedDir ? loadState(sharedDir) : undefined;
  const missing = components.filter((c) => !hasComponent(shared, c));
  let own: StackState | undefined;
  if (missing.length > 0) own = await startStack({ dir: newStateDir() }, missing);
  const state: StackState = { dir: shared?.dir ?? own!.dir, ...shared, ...own };
  const unavailable = (what: string) =>
    new Proxy(
      {},
      {
        get: () => {
          throw new Error(`${what} was not requested from useInfra()`);
        },
      },
    );
  return {
    state,
    kubernetes: state.kubernetes
      ? { ...state.kubernetes, kubectl: (args, input) => kubectl(state.kubernetes!, args, input) }
      : (unavailable('kubernetes') as KubernetesHandle),
    postgres: state.postgres ?? (unavailable('postgres') as PostgresInfo),
    temporal: state.temporal ?? (unavailable('temporal') as TemporalInfo),
    objectstore: state.objectstore ?? (unavailable('objectstore') as ObjectStoreInfo),
    realNodes: state.realNodes ?? (unavailable('nodes') as RealNodes),
    stop: async () => {
      if (own) await stopStack(own, { removeDir: true });
    },
  };
}
export { pgCtl, type PostgresInfo } from './postgres.js';
export { freePort, waitFor } from './ports.js';
