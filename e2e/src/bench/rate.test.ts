import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { measureRate, steadyRate, type CountSample } from './rate.js';

describe('steadyRate', () => {
  const cases: Array<[string, CountSample[], number, number]> = [
    [
      'is the count gained per second between the first and last samples',
      [
        { atMs: 0, count: 0 },
        { atMs: 2000, count: 500 },
      ],
      -Infinity,
      250,
    ],
    [
      'ignores samples before the window start (the warm-up)',
      [
        { atMs: 0, count: 0 },
        { atMs: 1000, count: 10 },
        { atMs: 3000, count: 2010 },
      ],
      1000,
      1000,
    ],
    [
      'is 0 with fewer than two samples in the window',
      [
        { atMs: 0, count: 0 },
        { atMs: 1000, count: 100 },
      ],
      500,
      0,
    ],
    [
      'is 0 when no time passed',
      [
        { atMs: 5, count: 0 },
        { atMs: 5, count: 100 },
      ],
      -Infinity,
      0,
    ],
  ];
  for (const [what, samples, from, expected] of cases) {
    test(what, () => assert.equal(steadyRate(samples, from), expected));
  }
});

describe('measureRate', () => {
  test('waits for the first rows, skips the warm-up, and measures the rate over the window', async () => {
    // Rows start 150 ms in, trickle for 300 ms, then arrive at 10,000/s.
    const t0 = performance.now();
    const count = async () => {
      const ms = performance.now() - t0;
      if (ms < 150) return 0;
      if (ms < 450) return Math.floor(ms - 150);
      return 300 + Math.floor((ms - 450) * 10);
    };
    const events: string[] = [];
    const m = await measureRate({
      count,
      warmupMs: 400,
      windowMs: 600,
      pollMs: 50,
      onFirstRows: () => events.push('first rows'),
      onWindowStart: () => events.push('window'),
    });
    assert.deepEqual(events, ['first rows', 'window']);
    assert.ok(m.rate > 8000 && m.rate < 11_000, `rate ${m.rate}`);
    assert.ok(m.windowSeconds >= 0.5, `window ${m.windowSeconds}`);
  });

  test('gives up when no row arrives in time', async () => {
    await assert.rejects(
      measureRate({ count: async () => 7, warmupMs: 0, windowMs: 100, startTimeoutMs: 300 }),
      /no rows arrived within 300 ms/,
    );
  });
});
