import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './index.js';

test('durations in the CRD format convert to milliseconds', () => {
  const cases: Array<[string, number]> = [
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('a malformed duration is an input error naming the value', () => {
  for (const bad of ['', '10', '-1s', '5 minutes', '1d']) {
    assert.throws(() => parseDuration(bad), (e: Error) => e.name === 'InputError' && e.message.includes(`"${bad}"`));
  }
});
