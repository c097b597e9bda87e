import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  childPids,
  CpuMeter,
  memoryBreakdown,
  parseCpuSeconds,
  parseMemoryBreakdown,
  parseVmRss,
  RssSampler,
  rssBytes,
} from './proc-stats.js';

describe('reading /proc', () => {
  const rssCases: Array<[string, string, number | undefined]> = [
    [
      'VmRSS in kB becomes bytes',
      'Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n',
      123456 * 1024,
    ],
    ['a process without VmRSS (a zombie) has none', 'Name:\tnode\nState:\tZ (zombie)\n', undefined],
  ];
  for (const [what, status, expected] of rssCases)
    test(what, () => assert.equal(parseVmRss(status), expected));

  test('RSS, its anonymous part and the proportional set size come from status and smaps_rollup', () => {
    assert.deepEqual(
      parseMemoryBreakdown(
        'VmRSS:\t  70000 kB\nRssAnon:\t  26000 kB\nRssFile:\t  44000 kB\n',
        '00400000-7ffd [rollup]\nRss:               70000 kB\nPss:               40000 kB\n',
      ),
      { rss: 70000 * 1024, anon: 26000 * 1024, pss: 40000 * 1024 },
    );
    assert.equal(parseMemoryBreakdown('Name:\tnode\n', ''), undefined, 'a zombie has none');
    const own = memoryBreakdown(process.pid)!;
    assert.ok(own.anon < own.rss && own.pss <= own.rss && own.pss > 0, JSON.stringify(own));
  });

  const statCases: Array<[string, string, number | undefined]> = [
    [
      'utime + stime are fields 14 and 15, in clock ticks',
      '42 (node) S 1 42 42 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 11 0 100',
      3,
    ],
    [
      'a command name with spaces and parentheses does not shift the fields',
      '7 (my (odd) name) R 1 7 7 0 -1 0 0 0 0 0 100 100 0 0 20 0 1 0 5',
      2,
    ],
    ['a truncated line has none', '7 (x) R 1', undefined],
  ];
  for (const [what, stat, expected] of statCases)
    test(what, () => assert.equal(parseCpuSeconds(stat), expected));

  test('this process has a resident set, sampled with its peak', async () => {
    assert.ok((rssBytes(process.pid) ?? 0) > 10 * 1024 * 1024);
    const sampler = new RssSampler(process.pid, 10).start();
    await new Promise((r) => setTimeout(r, 250));
    const s = sampler.stop();
    assert.ok(s.samples >= 2 && s.peak >= s.last && s.last > 0);
  });

  test('a process that has gone has no RSS', () => assert.equal(rssBytes(2 ** 22 + 1), undefined));

  test('a busy child uses clearly more CPU than an idle one, and both are children of this process', async () => {
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);']);
    const idle = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 1500)']);
    const exits = [once(busy, 'exit'), once(idle, 'exit')];
    try {
      assert.ok(childPids(process.pid).includes(busy.pid!) && childPids(process.pid).includes(idle.pid!));
      await new Promise((r) => setTimeout(r, 200)); // past the idle one's start-up
      const busyMeter = new CpuMeter(() => [busy.pid!]).start();
      const idleMeter = new CpuMeter(() => [idle.pid!]).start();
      await new Promise((r) => setTimeout(r, 1000));
      const [b, i] = [busyMeter.stop(), idleMeter.stop()];
      // On a loaded machine the busy child gets less than a core; it must still stand out.
      assert.ok(b <= 1.1 && i < 0.05 && b > i + 0.05, `busy ${b} cores, idle ${i}`);
    } finally {
      for (const c of [busy, idle]) c.kill();
      await Promise.all(exits);
    }
  });
});
