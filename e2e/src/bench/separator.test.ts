import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSeparatorFigures, separatorFigures } from './separator.js';

const h100 = {
  device: 'cuda',
  gpu: 'NVIDIA H100 80GB HBM3',
  model: 'htdemucs_arch',
  parameters: 26899536,
  audio_seconds: 180,
  separation_seconds: 1.324,
  separation_rtf: 0.00735,
  cli_seconds: 6.986,
  cli_rtf: 0.03881,
};

describe('reading the separator benchmark figures', () => {
  test('a CUDA row becomes a real-time factor figure naming the GPU', () => {
    const [figure] = separatorFigures(parseSeparatorFigures(JSON.stringify([h100])));
    assert.equal(figure?.benchmark, 'separator');
    assert.match(figure?.figure ?? '', /htdemucs_arch \(26\.9M params\) on NVIDIA H100 80GB HBM3, 180 s/);
    assert.equal(figure?.value, 'RTF 0.0074 (136.0x real time)');
    assert.match(figure?.comparison ?? '', /whole separator process .*RTF 0\.0388/);
  });

  test('a CPU row names the CPU', () => {
    const [row] = parseSeparatorFigures(JSON.stringify([{ ...h100, device: 'cpu', gpu: null }]));
    assert.equal(row?.gpu, null);
    assert.match(separatorFigures([row!])[0]?.figure ?? '', / on cpu,/);
  });

  const broken: Array<[string, string, RegExp]> = [
    ['an empty list', '[]', /non-empty list/],
    [
      'a row without the separation time',
      JSON.stringify([{ ...h100, separation_seconds: undefined }]),
      /"separation_seconds"/,
    ],
    ['a row with a text parameter count', JSON.stringify([{ ...h100, parameters: '27M' }]), /"parameters"/],
    ['not JSON', 'separation took 3 s', /JSON/],
  ];
  for (const [what, text, error] of broken) {
    test(`${what} is an error`, () => assert.throws(() => parseSeparatorFigures(text), error));
  }
});
