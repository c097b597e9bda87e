/**
 * `npm run infra -- up [postgres|kubernetes|temporal|objectstore ...] | down | status | env`
 * Starts the local servers in the background (state under .run/infra), prints where each listens.
 */
import { join } from 'node:path';
import { migrateDatabase } from './migrate.js';
import { repoRoot } from '@switchforge/testkit/paths';
import { isAlive } from '@switchforge/testkit/processes';
import {
  loadState,
  startStack,
  stopStack,
  type Component,
  type StackState,
} from '@switchforge/testkit/stack';
import { STATE_ENV } from '@switchforge/testkit';
import { sweepRealNodes } from '@switchforge/testkit/nodes/real-nodes';

const ALL: Component[] = ['postgres', 'kubernetes', 'temporal', 'objectstore', 'nodes'];
/** `up` with no names: what most suites share (the object store only on request). */
const DEFAULT: Component[] = ['postgres', 'kubernetes', 'temporal'];
const stateDir = process.env.SWITCHFORGE_STATE_DIR ?? join(repoRoot, '.run', 'infra');

function describe(state: StackState): string {
  const lines: string[] = [];
  if (state.postgres) lines.push(`postgres    ${state.postgres.dsn}`);
  if (state.kubernetes) {
    lines.push(`kubernetes  ${state.kubernetes.server}`);
    lines.push(`            export KUBECONFIG=${state.kubernetes.kubeconfig}`);
    lines.push(`            nodes: ${Object.keys(state.kubernetes.nodes).join(', ')}`);
  }
  if (state.temporal)
    lines.push(`temporal    ${state.temporal.address} (namespace ${state.temporal.namespace})`);
  if (state.objectstore) lines.push(`objectstore ${state.objectstore.endpoint} (Versity Gateway, S3)`);
  if (state.realNodes) {
    const nodes = Object.values(state.realNodes.nodes);
    lines.push(`real nodes  ${nodes.map((n) => `${n.name} (${n.nodeIp})`).join(', ')}`);
  }
  lines.push(`state       ${state.dir}  (${STATE_ENV}=${state.dir})`);
  return lines.join('\n');
}

function running(state: StackState): boolean {
  const pids = [
    ...(state.kubernetes ? Object.values(state.kubernetes.pids) : []),
    ...(state.temporal ? [state.temporal.pid] : []),
    ...(state.objectstore ? [state.objectstore.pid] : []),
    ...(state.realNodes ? Object.values(state.realNodes.nodes).flatMap((n) => Object.values(n.pids)) : []),
  ];
  return pids.length === 0 || pids.every(isAlive);
}

async function main(): Promise<void> {
  const [command = 'status', ...rest] = process.argv.slice(2);
  const existing = loadState(stateDir);
  switch (command) {
    case 'up': {
      const wanted = rest.length > 0 ? (rest as Component[]) : DEFAULT;
      const unknown = wanted.filter((c) => !ALL.includes(c));
      if (unknown.length > 0)
        throw new Error(`unknown component(s): ${unknown.join(', ')}; expected ${ALL.join(', ')}`);
      if (existing && !running(existing)) {
        await stopStack(existing, { removeDir: true });
      }
      const base = existing && running(existing) ? existing : { dir: stateDir };
      const state = await startStack(base, wanted);
      if (state.postgres) await migrateDatabase(state.postgres.dsn);
      console.log(describe(state));
      return;
    }
    case 'down':
      if (existing) await stopStack(existing, { removeDir: true });
      // Namespaces and cgroups of real nodes whose run died before it could record or stop them.
      await sweepRealNodes();
      console.log('stopped');
      return;
    case 'status':
      console.log(
        existing
          ? `${running(existing) ? 'running' : 'DEGRADED (a process died)'}\n${describe(existing)}`
          : 'not running',
      );
      return;
    case 'env':
      if (!existing) throw new Error('not running: npm run infra -- up');
      console.log(`export ${STATE_ENV}=${existing.dir}`);
      if (existing.kubernetes) console.log(`export KUBECONFIG=${existing.kubernetes.kubeconfig}`);
      if (existing.postgres) console.log(`export SWITCHFORGE_DATABASE_URL='${existing.postgres.dsn}'`);
      if (existing.temporal) console.log(`export TEMPORAL_ADDRESS=${existing.temporal.address}`);
      return;
    default:
      throw new Error(`unknown command ${command}: expected up | down | status | env`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
