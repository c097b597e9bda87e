import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnalyzerResult, parseResult, pythonFeature, SeparatorResult } from './python-results.js';
import { PythonProcessError } from './errors.js';

describe("the python-workers' result lines", () => {
  test('a separator result with its stems, model and device is taken as it is', () => {
    const line = {
      type: 'result',
      stems: { drums: '/out/drums.wav' },
      model: 'htdemucs',
      device: 'cpu',
      sample_rate: 44100,
    };
    assert.deepEqual(parseResult(SeparatorResult, line, 'separate'), line);
  });

  test('an analyzer result may leave out what the track has none of', () => {
    const r = parseResult(AnalyzerResult, { type: 'result', duration_s: 12.5, tempo: null }, 'analyze');
    assert.equal(r.duration_s, 12.5);
    assert.equal(r.tempo, null);
  });

  test('a line that breaks the contract is a PythonContractViolation naming the stage', () => {
    assert.throws(
      () => parseResult(SeparatorResult, { type: 'result', stems: {}, model: 'htdemucs' }, 'separate'),
      (e: unknown) =>
        e instanceof PythonProcessError &&
        e.reason === 'PythonContractViolation' &&
        /separate result does not match the contract/.test(e.message),
    );
  });

  test("the CRD's onsets feature is the analyzer's onset_rate; the others keep their names", () => {
    assert.equal(pythonFeature('onsets'), 'onset_rate');
    assert.equal(pythonFeature('tempo'), 'tempo');
  });
});
