import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAnalyzerOutput, parseNetconfOutput } from './external-benchmarks.js';

describe('reading the figures other benchmarks print', () => {
  test('e2e/src/bench/netconf-session.ts: leaves per second for the worker and ncclient', () => {
    const out = [
      'reply: 20000 interfaces, 240000 leaves; best of 3',
      'worker   : 612345 leaves/s (0.39 s)',
      'ncclient : 201234 leaves/s (1.19 s, 240000 leaves)',
      'ratio    : 3.04x',
    ].join('\n');
    assert.deepEqual(parseNetconfOutput(out), {
      interfaces: 20000,
      leaves: 240000,
      worker: 612345,
      ncclient: 201234,
    });
  });

  test('python-workers/bench_analyzer.py: seconds per minute of audio, in process and as a CLI', () => {
    const out = [
      'audio: 1 min stereo 44.1 kHz, all features, 2 CPU(s)',
      'in-process analysis: 2.41 s per minute of audio',
      'CLI process (startup included): 7.90 s per minute of audio (7.90 s total)',
    ].join('\n');
    assert.deepEqual(parseAnalyzerOutput(out), { minutes: 1, inProcessPerMinute: 2.41, cliPerMinute: 7.9 });
  });

  const broken: Array<[string, () => unknown, RegExp]> = [
    [
      'NETCONF output without the ncclient line',
      () => parseNetconfOutput('reply: 1 interfaces, 12 leaves\nworker   : 5 leaves/s (1 s)'),
      /unexpected NETCONF benchmark output/,
    ],
    [
      'analyzer output from another version',
      () => parseAnalyzerOutput('analysis took 3 s'),
      /unexpected analyzer benchmark output/,
    ],
  ];
  for (const [what, parse, error] of broken) {
    test(`${what} is an error that shows the output`, () => assert.throws(parse, error));
  }
});
