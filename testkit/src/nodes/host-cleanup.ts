/**
 * What a real node leaves on the machine besides its processes: mounts under its folder, cgroups
 * in every hierarchy, containerd shims, and the fixed host paths containerd, CNI and the kubelet
 * write whatever their configuration says. Stopping a node removes all of it.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { run } from '../processes.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup hierarchies mounted here (v1 controllers, the named systemd one, the v2 `unified`). */
export function cgroupHierarchies(): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  return readdirSync(CGROUP_ROOT)
    .map((n) => join(CGROUP_ROOT, n))
    .filter((p) => {
      try {
        return statSync(p).isDirectory() && existsSync(join(p, 'cgroup.procs'));
      } catch {
        return false;
      }
    });
}

/** Creates `cgroup` (e.g. `/sfn1a2b-n0`) in every hierarchy; cpuset needs its cpus and mems set. */
export function createCgroup(cgroup: string): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(h, cgroup);
    // mkdir on cgroupfs creates the group with its control files.
    if (!existsSync(dir)) mkdirSync(dir);
    if (h.endsWith('/cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (readFileSync(join(dir, f), 'utf8').trim() === '')
          writeFileSync(join(dir, f), readFileSync(join(h, f), 'utf8'));
      }
    }
  }
}

/** Every process in the cgroup tree (pids hierarchy, else any), deepest groups first. */
function cgroupTree(hierarchy: string, cgroup: string): string[] {
  const top = join(hierarchy, cgroup);
  if (!existsSync(top)) return [];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    out.push(dir);
  };
  walk(top);
  return out;
}

/** Thaws, kills every process in, then removes the cgroup in every hierarchy. */
export async function removeCgroup(cgroup: string): Promise<void> {
  const freezer = join(CGROUP_ROOT, 'freezer', cgroup, 'freezer.state');
  if (existsSync(freezer)) writeFileSync(freezer, 'THAWED');
  for (let attempt = 0; attempt < 20; attempt++) {
    let left = 0;
    for (const h of cgroupHierarchies()) {
      for (const dir of cgroupTree(h, cgroup)) {
        let pids: string[];
        try {
          pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
        } catch {
          continue; // removed while we walked: nothing left in it
        }
        for (const pid of pids) {
          left++;
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone already */
          }
        }
      }
    }
    if (left === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const h of cgroupHierarchies()) {
    for (const dir of cgroupTree(h, cgroup)) {
      try {
        rmdirSync(dir);
      } catch {
        /* busy for a moment after its last process: the sweep on `down` retries */
      }
    }
  }
}

/** Project cgroups left by a run that did not stop, by their name's prefix. */
export function leftoverCgroups(prefix: string): string[] {
  const names = new Set<string>();
  for (const h of cgroupHierarchies()) {
    for (const e of readdirSync(h, { withFileTypes: true })) {
      if (e.isDirectory() && e.name.startsWith(prefix)) names.add(`/${e.name}`);
    }
  }
  return [...names];
}

/** Mount points under `dir` (this mount namespace's view), deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

export async function unmountUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) return;
    for (const m of mounts) await run('umount', ['-l', m]);
  }
}

/** PIDs of containerd shims serving the containerd at `socket`. */
export function shimsOf(socket: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('containerd-shim') && argv.includes(socket)) pids.push(Number(e));
    } catch {
      /* exited while we looked */
    }
  }
  return pids;
}

/**
 * Fixed paths containerd, CNI and the kubelet write whatever their configuration says. Removed on
 * stop only when they were not there before the nodes started (`present` holds those that were).
 */
export const FIXED_HOST_PATHS = [
  '/run/containerd/s',
  '/var/lib/cni',
  '/var/lib/kubelet/device-plugins',
] as const;

export function presentFixedPaths(): string[] {
  return FIXED_HOST_PATHS.filter((p) => existsSync(p));
}

export function removeFixedPaths(present: readonly string[]): void {
  for (const p of FIXED_HOST_PATHS) {
    if (!present.includes(p)) rmSync(p, { recursive: true, force: true });
  }
  // Their parents, when this run created them and left them empty.
  for (const parent of ['/run/containerd', '/var/lib/kubelet']) {
    try {
      if (existsSync(parent) && readdirSync(parent).length === 0) rmdirSync(parent);
    } catch {
      /* not empty: someone else's */
    }
  }
}
