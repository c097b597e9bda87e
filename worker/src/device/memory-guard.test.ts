/**
 * Degrade before OOM: a worker whose writer and live ring fill up (PostgreSQL down) under a
 * memory limit sheds and counts updates and lives on, where the same process without the
 * guard is killed. Proven twice: under the V8 heap cap the operator's plan sets
 * (`--max-old-space-size`), and, where this machine lets the test create one, under a cgroup v1
 * memory limit (what a container's limit is). The real-node version runs on the kubelets.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { workerMemoryPlan, workerNodeOptions } from '@switchforge/platform/worker-memory';
import { MemoryGuard, type MemoryReading } from './memory-guard.js';

const hog = fileURLToPath(new URL('../test-support/memory-hog.ts', import.meta.url));

interface HogResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  summary?: {
    produced: number;
    dropped: number;
    droppedUnderPressure: number;
    sheddingSeen: boolean;
    peakRssMiB: number;
  };
}

function runHog(
  args: string[],
  env: NodeJS.ProcessEnv,
  wrap?: (argv: string[]) => string[],
): Promise<HogResult> {
  const argv = [process.execPath, ...args];
  const [cmd, ...rest] = wrap ? wrap(argv) : argv;
  const child = spawn(cmd!, rest, { env: { ...process.env, HOG_SECONDS: '10', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{"produced"'));
      resolve({
        code,
        signal,
        stderr,
        ...(line ? { summary: JSON.parse(line) as HogResult['summary'] } : {}),
      });
    });
  });
}

describe('the memory guard', () => {
  const reading = (ratio: number): MemoryReading => ({
    ratio,
    source: 'rss',
    usedBytes: ratio,
    limitBytes: 1,
  });

  test('sheds above the high watermark and resumes only below the low one', () => {
    const ratios = [0.5, 0.86, 0.8, 0.72, 0.69, 0.84, 0.9];
    const changes: boolean[] = [];
    let i = 0;
    const guard = new MemoryGuard({
      limitBytes: 1,
      read: () => reading(ratios[i++]!),
      onPressure: (on) => changes.push(on),
    });
    const states = ratios.map(() => (guard.check(), guard.shedding));
    assert.deepEqual(states, [false, true, true, true, false, false, true]);
    assert.deepEqual(changes, [true, false, true], 'one call per transition');
  });

  test('checks sooner the nearer memory is to the watermark', () => {
    const limitBytes = 2 ** 30;
    let ratio = 0.1;
    let reads = 0;
    const guard = new MemoryGuard({
      limitBytes,
      checkEverySamples: 20_000,
      bytesPerSample: 256,
      read: () => (reads++, { ratio, source: 'heap', usedBytes: ratio * limitBytes, limitBytes }),
      onPressure: () => {},
    });
    guard.check();
    guard.noteBuffered(19_999);
    assert.equal(reads, 1, 'far from the watermark: every checkEverySamples');
    guard.noteBuffered(1);
    assert.equal(reads, 2);
    // 1 % of 1 GiB left below 0.85 fills with ~42,000 samples of 256 B: check after a quarter.
    ratio = 0.84;
    guard.check();
    guard.noteBuffered(10_000);
    assert.equal(reads, 3, 'not yet');
    guard.noteBuffered(500);
    assert.equal(reads, 4, 'checked after a quarter of the headroom');
  });

  test('under a V8 heap cap, a filling worker sheds and lives where an unguarded one dies', async () => {
    const heapCap = ['--max-old-space-size=48', '--import', 'tsx', hog];
    const unguarded = await runHog(heapCap, {});
    assert.ok(
      unguarded.code !== 0 && /heap out of memory/i.test(unguarded.stderr),
      `without the guard the process must die of its heap cap (exit ${unguarded.code}, ${unguarded.signal})`,
    );
    const guarded = await runHog([...heapCap, '--guard'], {});
    assert.equal(guarded.code, 0, guarded.stderr);
    assert.ok(guarded.summary?.sheddingSeen, 'it went into shedding');
    assert.ok(guarded.summary!.droppedUnderPressure > 0, 'the shed updates are counted');
  });

  // cgroup v1 here (the machine's hierarchy); a v2-only machine skips with the reason.
  const own = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  const parent = own === undefined ? undefined : `/sys/fs/cgroup/memory${own}`;
  const cgroupSkip =
    parent === undefined || !existsSync(`${parent}/memory.limit_in_bytes`)
      ? 'no cgroup v1 memory hierarchy to create a limit in'
      : false;

  test(
    'under a cgroup memory limit and the V8 flags planned for it, a filling worker sheds and lives where an unguarded one dies',
    { skip: cgroupSkip },
    async (t) => {
      const limit = 192 * 2 ** 20;
      // The V8 flags the operator's plan gives a worker with this limit (platform/worker-memory.ts).
      const plan = workerMemoryPlan(100_000, limit);
      const args = [...workerNodeOptions(plan).split(' '), '--import', 'tsx', hog];
      const env = { HOG_SECONDS: '15', SWITCHFORGE_LIVE_RING_BYTES: String(plan.liveRingBytes) };
      // A fresh cgroup per run, so that one run's page cache is not charged to the next.
      const inFreshCgroup = async (guard: boolean): Promise<HogResult | undefined> => {
        const dir = `${parent}/switchforge-memtest-${process.pid}-${guard ? 'guarded' : 'unguarded'}`;
        try {
          mkdirSync(dir);
          writeFileSync(`${dir}/memory.limit_in_bytes`, String(limit));
        } catch (e) {
          t.skip(`cannot create a cgroup with a limit: ${String(e)}`);
          return undefined;
        }
        try {
          // The child joins the cgroup before it execs node, so all of node's memory is charged there.
          return await runHog(
            guard ? [...args, '--guard'] : args,
            guard ? { ...env, SWITCHFORGE_MEMORY_LIMIT_BYTES: String(limit) } : env,
            (argv) => ['sh', '-c', `echo $$ > ${dir}/cgroup.procs && exec "$@"`, 'sh', ...argv],
          );
        } finally {
          rmdirSync(dir);
        }
      };
      const unguarded = await inFreshCgroup(false);
      if (!unguarded) return;
      assert.ok(
        unguarded.code !== 0,
        `without the guard it must die, killed by the kernel or at its heap cap (exit ${unguarded.code}, ${unguarded.signal})`,
      );
      const guarded = (await inFreshCgroup(true))!;
      assert.equal(
        guarded.code,
        0,
        `exit ${guarded.code}, ${guarded.signal}: ${guarded.stderr.slice(-1000)}`,
      );
      assert.ok(guarded.summary?.sheddingSeen, 'it went into shedding');
      assert.ok(guarded.summary!.droppedUnderPressure > 0, 'the shed updates are counted');
    },
  );
});
