import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '@switchforge/platform/crd';
import { GnmiCollector, msToWireNs } from './collector.js';

test('Device durations become the exact gNMI nanoseconds, sub-millisecond ones included', () => {
  for (const [text, ns] of [
    ['1ns', '1'],
    ['250us', '250000'],
    ['1.5ms', '1500000'],
    ['10s', '10000000000'],
    ['1.000000001s', '1000000001'],
    ['1m30s', '90000000000'],
    ['24h', '86400000000000'],
  ] as const) {
    assert.equal(msToWireNs(parseDuration(text)), ns, text);
  }
});

test('a SubscribeRequest with a sub-millisecond interval is built, not thrown', () => {
  const c = new GnmiCollector({
    deviceName: 'ns/leaf1',
    address: '127.0.0.1',
    port: 1,
    tls: { mode: 'insecure' },
    subscriptions: [{ path: '/interfaces', mode: 'sample', sampleInterval: parseDuration('100us') }],
  });
  const sub = c.subscribeRequest().subscribe?.subscription?.[0];
  assert.equal(sub?.sample_interval, '100000');
});
