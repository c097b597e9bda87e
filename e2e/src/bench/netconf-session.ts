/**
 * Benchmark: leaves per second from one large `<get>` reply, collected by this worker's NETCONF
 * session, and by ncclient (Python, lxml) doing the same `<get>` against the same simulator in the
 * same run.
 *
 *   node --import tsx e2e/src/bench/netconf-session.ts [interfaces=40000] [rounds=3]
 *
 * ncclient is installed (idempotently) into ${SWITCHFORGE_CACHE:-~/.cache/switchforge}/venv/ncclient.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LEAVES_PER_INTERFACE, startNetconfSimulator } from '@switchforge/simulators/netconf';
import { NetconfSession } from '@switchforge/worker/netconf/session';

const interfaces = Number(process.argv[2] ?? 40_000);
const rounds = Number(process.argv[3] ?? 3);
const cache = process.env.SWITCHFORGE_CACHE ?? join(homedir(), '.cache', 'switchforge');
const venv = join(cache, 'venv', 'ncclient');
const python = join(venv, 'bin', 'python');
const FILTER = '<interfaces xmlns="http://openconfig.net/yang/interfaces"/>';

function ensureNcclient(): void {
  if (existsSync(python)) {
    try {
      execFileSync(python, ['-c', 'import ncclient, lxml'], { stdio: 'ignore' });
      return;
    } catch {
      // fall through and (re)install
    }
  }
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', 'ncclient'], { stdio: 'inherit' });
}

// ncclient's usual use: get() parses the reply with lxml; the leaves are then walked once.
const NCCLIENT_SCRIPT = `
import json, sys, time
from ncclient import manager
port, rounds, filt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
m = manager.connect(host="127.0.0.1", port=port, username="admin", password="admin",
                    hostkey_verify=False, look_for_keys=False, allow_agent=False, timeout=600)
m.huge_tree = True  # lxml refuses very large documents otherwise
best = None
for _ in range(rounds):
    t0 = time.perf_counter()
    reply = m.get(filter=("subtree", filt))
    leaves = 0
    for el in reply.data_ele.iter():
        if len(el) == 0:
            leaves += 1
    dt = time.perf_counter() - t0
    best = dt if best is None or dt < best else best
m.close_session()
print(json.dumps({"leaves": leaves, "seconds": best}))
`;

async function main(): Promise<void> {
  ensureNcclient();
  const sim = await startNetconfSimulator({ interfaces });
  try {
    const session = await NetconfSession.connect({
      host: '127.0.0.1',
      port: sim.port,
      username: 'admin',
      password: 'admin',
      hostKey: sim.hostKey,
      device: 'bench',
      rpcTimeoutMs: 600_000,
    });
    let best = Infinity;
    let leaves = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      leaves = await session.get({ type: 'subtree', value: FILTER }, () => undefined);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    await session.close();
    if (leaves !== interfaces * LEAVES_PER_INTERFACE)
      throw new Error(`worker collected ${leaves} leaves, expected ${interfaces * LEAVES_PER_INTERFACE}`);

    // Asynchronous: the simulator serving ncclient lives in this process's event loop.
    const { stdout: out } = await promisify(execFile)(
      python,
      ['-c', NCCLIENT_SCRIPT, String(sim.port), String(rounds), FILTER],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    const nc = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { leaves: number; seconds: number };

    const worker = leaves / best;
    const ncclient = nc.leaves / nc.seconds;
    console.log(`reply: ${interfaces} interfaces, ${leaves} leaves; best of ${rounds}`);
    console.log(`worker   : ${Math.round(worker)} leaves/s (${best.toFixed(2)} s)`);
    console.log(
      `ncclient : ${Math.round(ncclient)} leaves/s (${nc.seconds.toFixed(2)} s, ${nc.leaves} leaves)`,
    );
    console.log(`ratio    : ${(worker / ncclient).toFixed(2)}x`);
  } finally {
    await sim.stop();
  }
}

await main();
