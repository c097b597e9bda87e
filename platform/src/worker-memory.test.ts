import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceSpec } from './crd/device.js';
import {
  EXPECTED_RATE_ANNOTATION,
  expectedUpdatesPerSecond,
  parseQuantityBytes,
  workerMemoryPlan,
  workerNodeOptions,
} from './worker-memory.js';

const MiB = 2 ** 20;
const spec = (subscriptions: DeviceSpec['subscriptions']): DeviceSpec => ({
  address: '192.0.2.1',
  protocol: 'gnmi',
  credentials: { secretRef: { name: 'login' } },
  subscriptions,
});

describe("a device worker's memory plan", () => {
  const rates: Array<[string, DeviceSpec, Record<string, string>, number]> = [
    [
      'a wildcard path sampled every 10 s: 200 leaves / 10 s',
      spec([{ path: '/interfaces/interface[name=*]/state/counters', mode: 'sample', sampleInterval: '10s' }]),
      {},
      20,
    ],
    [
      'a single leaf every second',
      spec([{ path: '/system/state/hostname', mode: 'sample', sampleInterval: '1s' }]),
      {},
      10,
    ],
    [
      'on-change paths count a hundredth of their leaves',
      spec([{ path: '/interfaces/interface[name=*]/state/oper-status', mode: 'on-change' }]),
      {},
      2,
    ],
    [
      'subscriptions add up',
      spec([
        { path: '/a[name=*]', mode: 'sample', sampleInterval: '1s' },
        { path: '/b[name=*]', mode: 'sample', sampleInterval: '500ms' },
      ]),
      {},
      600,
    ],
    ['the annotation replaces the estimate', spec([]), { [EXPECTED_RATE_ANNOTATION]: '100000' }, 100_000],
    [
      'a nonsense annotation is ignored',
      spec([{ path: '/a[name=*]', mode: 'sample', sampleInterval: '1s' }]),
      { [EXPECTED_RATE_ANNOTATION]: 'lots' },
      200,
    ],
  ];
  for (const [what, s, annotations, expected] of rates)
    test(`expected rate: ${what}`, () => assert.equal(expectedUpdatesPerSecond(s, annotations), expected));

  test('a quiet switch gets a small young generation and the smallest container', () => {
    const plan = workerMemoryPlan(2000);
    assert.equal(plan.semiSpaceMiB, 1);
    assert.equal(plan.limitBytes, 128 * MiB);
    assert.ok(plan.requestBytes < plan.limitBytes);
    assert.equal(plan.maxBufferedSamples, 40_000, '20 s of updates');
    assert.equal(workerNodeOptions(plan), `--max-semi-space-size=1 --max-old-space-size=${plan.oldSpaceMiB}`);
  });

  test('a firehose gets a large young generation, and its buffers and limit grow with the rate', () => {
    const small = workerMemoryPlan(2000);
    const big = workerMemoryPlan(100_000);
    assert.equal(big.semiSpaceMiB, 16);
    assert.ok(big.limitBytes > small.limitBytes);
    assert.ok(big.maxBufferedSamples > small.maxBufferedSamples && big.liveRingBytes > small.liveRingBytes);
    assert.ok(
      big.oldSpaceMiB * MiB + 3 * big.semiSpaceMiB * MiB < big.limitBytes,
      'V8 fits in the container',
    );
  });

  test("a Device's own limit is kept and the buffers shrink to fit it", () => {
    const asked = 160 * MiB;
    const plan = workerMemoryPlan(100_000, asked);
    assert.equal(plan.limitBytes, asked);
    assert.ok(plan.maxBufferedSamples < workerMemoryPlan(100_000).maxBufferedSamples);
    assert.ok(plan.oldSpaceMiB * MiB + 3 * plan.semiSpaceMiB * MiB < asked);
  });

  const quantities: Array<[string | number | undefined, number | undefined]> = [
    ['512Mi', 512 * MiB],
    ['1Gi', 1024 * MiB],
    ['1G', 1e9],
    ['134217728', 134_217_728],
    [268435456, 268_435_456],
    ['lots', undefined],
    [undefined, undefined],
  ];
  for (const [q, bytes] of quantities)
    test(`the quantity ${JSON.stringify(q)} is ${bytes ?? 'not one'}`, () =>
      assert.equal(parseQuantityBytes(q), bytes));
});
