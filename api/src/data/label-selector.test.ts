import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '@switchforge/platform/errors';
import { matchesLabels, parseLabelSelector } from './label-selector.js';

const labels = { site: 'ams', role: 'leaf', 'switchforge.io/tier': 'edge' };

const cases: [selector: string, matches: boolean][] = [
  ['', true],
  ['site=ams', true],
  ['site==ams', true],
  ['site!=ams', false],
  ['site=fra', false],
  ['role in (leaf,spine)', true],
  ['role notin (leaf, spine)', false],
  ['role in (spine)', false],
  ['site', true],
  ['!site', false],
  ['!rack', true],
  ['rack!=r1', true],
  ['site=ams, role in (leaf,spine), !rack', true],
  ['switchforge.io/tier=edge', true],
];

for (const [selector, expected] of cases) {
  test(`the selector ${JSON.stringify(selector)} ${expected ? 'matches' : 'does not match'} the labels`, () => {
    assert.equal(matchesLabels(parseLabelSelector(selector), labels), expected);
  });
}

for (const bad of ['role in (leaf', 'a=b=c', 'bad key=1', '=x', 'x=@']) {
  test(`the malformed selector ${JSON.stringify(bad)} is an input error`, () => {
    assert.throws(() => parseLabelSelector(bad), InputError);
  });
}
