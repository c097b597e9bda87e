import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../errors.js';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  const valid: [string, number][] = [
    ['10s', 10_000],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['500us', 0.5],
    ['0s', 0],
  ];
  for (const [text, ms] of valid) {
    it(`reads ${text} as ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }

  const invalid = ['', '-5s', '10', 's', '10 s', '1d', '1m-30s', '.5s', 'PT10S'];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)} with an InputError`, () =>
      assert.throws(
        () => parseDuration(text),
        (e: unknown) => e instanceof InputError && e.reason === 'InvalidDuration',
      ));
  }
});
