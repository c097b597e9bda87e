import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyFigures, parseAccuracyRows } from './analyzer-accuracy.js';

const row = {
  analyzer: 'switchforge analyzer',
  acc1: 0.917,
  acc2: 1,
  key_weighted: 0.96,
  exact_keys: 40,
  keyed_tracks: 42,
  seconds_per_minute: 0.41,
  misses: [],
};

describe('reading the analyzer accuracy figures', () => {
  test('a scored row becomes one figure with the goals', () => {
    const [figure] = accuracyFigures(parseAccuracyRows(JSON.stringify([row])));
    assert.equal(
      figure?.value,
      'tempo Acc1 0.917, Acc2 1.000; key weighted 0.960, 40/42 exact; 0.41 s per min',
    );
    assert.equal(figure?.comparison, 'meets goal');
  });

  test('a row under any goal misses it', () => {
    const [figure] = accuracyFigures(parseAccuracyRows(JSON.stringify([{ ...row, acc2: 0.95 }])));
    assert.equal(figure?.comparison, 'misses goal');
  });

  test('a peer that could not be installed is reported, not scored', () => {
    const rows = parseAccuracyRows(JSON.stringify([{ analyzer: 'essentia', error: 'not installed: x' }]));
    assert.deepEqual(rows, [{ analyzer: 'essentia', error: 'not installed: x' }]);
    assert.equal(accuracyFigures(rows)[0]?.value, 'not installed: x');
  });

  test('a row without a figure names the missing field', () => {
    assert.throws(
      () => parseAccuracyRows(JSON.stringify([{ ...row, acc1: undefined }])),
      /"acc1" is missing/,
    );
    assert.throws(() => parseAccuracyRows('[]'), /non-empty list/);
  });
});
