import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonLinesDecoder, parseLine } from './json-lines.js';

describe('parseLine', () => {
  const cases: Array<[string, string, ReturnType<typeof parseLine>]> = [
    [
      'an object is JSON',
      '{"type":"progress","percent":3}',
      { kind: 'json', value: { type: 'progress', percent: 3 } },
    ],
    ['a CRLF ending is tolerated', '{"a":1}\r', { kind: 'json', value: { a: 1 } }],
    ['an array is noise', '[1,2]', { kind: 'noise', text: '[1,2]' }],
    ['plain text is noise', 'Warning: x', { kind: 'noise', text: 'Warning: x' }],
    ['a broken object is noise', '{"a":', { kind: 'noise', text: '{"a":' }],
    ['null is noise', 'null', { kind: 'noise', text: 'null' }],
  ];
  for (const [name, input, want] of cases) it(name, () => assert.deepEqual(parseLine(input), want));
});

describe('JsonLinesDecoder', () => {
  it('emits a line only once its newline arrives, across chunk and multibyte boundaries', () => {
    const d = new JsonLinesDecoder();
    const bytes = Buffer.from('{"m":"é"}\n{"n":2}');
    const splitAt = bytes.indexOf(0xa9); // inside the two-byte é
    assert.deepEqual(d.push(bytes.subarray(0, splitAt)), []);
    assert.deepEqual(d.push(bytes.subarray(splitAt)), [{ kind: 'json', value: { m: 'é' } }]);
    assert.deepEqual(d.end(), [{ kind: 'json', value: { n: 2 } }]);
  });

  it('drops an overlong line without holding its bytes', () => {
    const d = new JsonLinesDecoder();
    d.push('{"x":"' + 'a'.repeat(1 << 20));
    assert.deepEqual(d.push('"}\n{"ok":1}\n'), [{ kind: 'json', value: { ok: 1 } }]);
  });
});
