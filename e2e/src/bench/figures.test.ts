import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatRate, formatSeconds, formatTable, ratio } from './figures.js';

describe('the benchmark table', () => {
  test('pads every column to its widest cell and leaves missing goals and comparisons blank', () => {
    const table = formatTable([
      {
        benchmark: 'ingest',
        figure: 'worker',
        value: '120,000 updates/s',
        goal: '≥ 100,000 updates/s',
        comparison: '1.50x Telegraf',
      },
      { benchmark: 'operator', figure: 'RSS idle', value: '80.0 MiB' },
    ]).split('\n');
    assert.equal(table.length, 4);
    assert.match(table[0]!, /^benchmark\s+figure\s+value\s+goal\s+comparison$/);
    assert.match(table[1]!, /^-{9} {2}-{8} {2}-{17} {2}-{19} {2}-{14}$/);
    const valueColumn = table[0]!.indexOf('value');
    assert.equal(table[2]!.indexOf('120,000'), valueColumn);
    assert.equal(table[3]!.indexOf('80.0 MiB'), valueColumn);
    assert.equal(table[3], table[3]!.trimEnd(), 'no trailing blanks where cells are empty');
  });

  const cases: Array<[string, string, string]> = [
    ['a rate with thousands separators', formatRate(123456.7), '123,457 updates/s'],
    ['a rate in another unit', formatRate(12.3, 'Devices/s'), '12 Devices/s'],
    ['bytes as MiB', formatBytes(256 * 1024 * 1024), '256.0 MiB'],
    ['short durations with two decimals', formatSeconds(1.234), '1.23 s'],
    ['long durations with one', formatSeconds(123.45), '123.5 s'],
    ['a ratio to a comparison', ratio(150, 100, 'Telegraf'), '1.50x Telegraf'],
    ['a ratio to nothing measured', ratio(150, 0, 'Telegraf'), 'Telegraf: no figure'],
  ];
  for (const [what, actual, expected] of cases) {
    test(`formats ${what}`, () => assert.equal(actual, expected));
  }
});
