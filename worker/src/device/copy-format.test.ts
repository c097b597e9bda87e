import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyRow, escapeCopyText, timestampLiteral } from './copy-format.js';

test('timestamps keep microsecond precision in UTC', () => {
  assert.equal(timestampLiteral(1_764_151_200_123_456_789n), '2025-11-26T10:00:00.123456+00');
  assert.equal(timestampLiteral(0n), '1970-01-01T00:00:00.000000+00');
  assert.equal(timestampLiteral(1_000n), '1970-01-01T00:00:00.000001+00');
});

test('text that would break COPY framing is escaped', () => {
  const cases: Array<[string, string]> = [
    ['plain', 'plain'],
    ['tab\there', 'tab\\there'],
    ['line\nbreak', 'line\\nbreak'],
    ['back\\slash', 'back\\\\slash'],
    ['cr\r', 'cr\\r'],
  ];
  for (const [input, want] of cases) assert.equal(escapeCopyText(input), want);
});

test('each value kind becomes the right columns, and a delete is a marked row', () => {
  const base = { device: 'lab/sw1', path: '/interfaces/interface/state/counters/in-octets', timestampNs: 0n };
  const cols = (value: number | string | boolean | undefined, labels: Record<string, string> = {}) =>
    copyRow({ ...base, labels, value })
      .trimEnd()
      .split('\t');
  assert.deepEqual(cols(42, { name: 'Ethernet1' }).slice(3), ['{"name":"Ethernet1"}', '42', '\\N', 'f']);
  assert.deepEqual(cols(true).slice(4), ['1', 'true', 'f']);
  assert.deepEqual(cols('UP').slice(4), ['\\N', 'UP', 'f']);
  assert.deepEqual(cols(undefined).slice(4), ['\\N', '\\N', 't']);
  // JSON_IETF 64-bit integers arrive as strings: numbers for queries, exact digits kept as text.
  assert.deepEqual(cols('18446744073709551615').slice(4), [
    '18446744073709551615',
    '18446744073709551615',
    'f',
  ]);
  assert.deepEqual(cols('-12.5e3').slice(4), ['-12.5e3', '-12.5e3', 'f']);
  assert.deepEqual(cols('12 dBm').slice(4), ['\\N', '12 dBm', 'f']);
  assert.deepEqual(cols(Number.NaN).slice(4, 5), ['NaN']);
});
