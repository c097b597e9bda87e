import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramingError } from './errors.js';
import { FrameDecoder, encodeMessage, type Framing } from './framing.js';

/** Decodes `input` split into the given read sizes; returns the messages or the error code. */
function decode(
  framing: Framing,
  input: string,
  readSizes: number[] = [],
  maxMessageBytes = 1 << 20,
): string[] | string {
  const decoder = new FrameDecoder({ framing, maxMessageBytes });
  const messages: string[] = [];
  let current: Buffer[] = [];
  const sink = {
    data: (b: Buffer) => current.push(Buffer.from(b)),
    end: () => (messages.push(Buffer.concat(current).toString()), (current = [])),
  };
  const bytes = Buffer.from(input, 'latin1');
  try {
    let pos = 0;
    let i = 0;
    while (pos < bytes.length) {
      const size = readSizes.length > 0 ? (readSizes[i++ % readSizes.length] as number) : bytes.length;
      decoder.push(bytes.subarray(pos, pos + size), sink);
      pos += size;
    }
  } catch (e) {
    if (e instanceof FramingError) return e.code;
    throw e;
  }
  return messages;
}

const cases: { name: string; framing: Framing; input: string; expected: string[] | string }[] = [
  { name: 'one end-of-message frame', framing: 'eom', input: '<a/>]]>]]>', expected: ['<a/>'] },
  {
    name: 'two end-of-message frames in one read',
    framing: 'eom',
    input: '<a/>]]>]]><b/>]]>]]>',
    expected: ['<a/>', '<b/>'],
  },
  {
    name: 'a partial delimiter inside a message is content',
    framing: 'eom',
    input: '<a>]]></a>]]>]]>',
    expected: ['<a>]]></a>'],
  },
  {
    name: 'an unterminated end-of-message frame yields nothing yet',
    framing: 'eom',
    input: '<a/>]]>]]',
    expected: [],
  },
  { name: 'one chunk', framing: 'chunked', input: '\n#4\n<a/>\n##\n', expected: ['<a/>'] },
  {
    name: 'a message in several chunks',
    framing: 'chunked',
    input: '\n#2\n<a\n#2\n/>\n##\n',
    expected: ['<a/>'],
  },
  {
    name: 'two chunked messages back to back',
    framing: 'chunked',
    input: '\n#1\nx\n##\n\n#1\ny\n##\n',
    expected: ['x', 'y'],
  },
  {
    name: 'a chunk may contain the end-of-chunks marker bytes',
    framing: 'chunked',
    input: '\n#4\n\n##\n\n##\n',
    expected: ['\n##\n'],
  },
  {
    name: 'the largest chunk size is accepted in the header',
    framing: 'chunked',
    input: '\n#4294967295\n',
    expected: [],
  },
  {
    name: 'a chunk size over 4294967295 is rejected',
    framing: 'chunked',
    input: '\n#4294967296\n',
    expected: 'BadChunkHeader',
  },
  {
    name: 'a zero chunk size is rejected',
    framing: 'chunked',
    input: '\n#0\n\n##\n',
    expected: 'BadChunkHeader',
  },
  {
    name: 'a leading zero is rejected',
    framing: 'chunked',
    input: '\n#01\nx\n##\n',
    expected: 'BadChunkHeader',
  },
  {
    name: 'a non-digit size is rejected',
    framing: 'chunked',
    input: '\n#1a\nx\n##\n',
    expected: 'BadChunkHeader',
  },
  {
    name: 'a missing newline before # is rejected',
    framing: 'chunked',
    input: '#1\nx\n##\n',
    expected: 'BadChunkHeader',
  },
  {
    name: 'an end-of-message delimiter in chunked mode is rejected',
    framing: 'chunked',
    input: '<a/>]]>]]>',
    expected: 'BadChunkHeader',
  },
  {
    name: 'end-of-chunks without any chunk is rejected',
    framing: 'chunked',
    input: '\n##\n',
    expected: 'EmptyMessage',
  },
  {
    name: 'more than 10 size digits are rejected',
    framing: 'chunked',
    input: '\n#12345678901\n',
    expected: 'BadChunkHeader',
  },
];

describe('FrameDecoder', () => {
  for (const c of cases) {
    it(`decodes: ${c.name}`, () => {
      assert.deepEqual(decode(c.framing, c.input), c.expected);
      // Every split of the input must give the same answer as one read.
      for (const size of [1, 2, 3, 5, 7])
        assert.deepEqual(decode(c.framing, c.input, [size]), c.expected, `reads of ${size} bytes`);
    });
  }

  it('rejects a message larger than the maximum, in either framing', () => {
    assert.equal(decode('eom', `${'x'.repeat(101)}]]>]]>`, [10], 100), 'MessageTooLarge');
    assert.equal(
      decode('chunked', `\n#60\n${'x'.repeat(60)}\n#60\n${'x'.repeat(60)}\n##\n`, [7], 100),
      'MessageTooLarge',
    );
    assert.deepEqual(decode('eom', `${'x'.repeat(100)}]]>]]>`, [10], 100), ['x'.repeat(100)]);
  });

  it('lets the sink switch framing between messages, as after the hello', () => {
    const decoder = new FrameDecoder({ maxMessageBytes: 1000 });
    const got: string[] = [];
    let cur = '';
    decoder.push(Buffer.from('<hello/>]]>]]>\n#3\n<a/\n#1\n>\n##\n'), {
      data: (b) => (cur += b.toString()),
      end: () => {
        got.push(cur);
        cur = '';
        decoder.setFraming('chunked');
      },
    });
    assert.deepEqual(got, ['<hello/>', '<a/>']);
  });

  it('round-trips what encodeMessage produces', () => {
    for (const framing of ['eom', 'chunked'] as const) {
      const xml = '<rpc message-id="1"><get/></rpc>';
      assert.deepEqual(decode(framing, encodeMessage(xml, framing).toString('latin1'), [3]), [xml]);
    }
  });

  it('stays failed after a framing error', () => {
    const decoder = new FrameDecoder({ framing: 'chunked', maxMessageBytes: 100 });
    const sink = { data: () => undefined, end: () => undefined };
    assert.throws(() => decoder.push(Buffer.from('junk'), sink), FramingError);
    assert.throws(() => decoder.push(Buffer.from('\n#1\nx\n##\n'), sink), FramingError);
  });
});

describe('FrameDecoder under random input (fuzz)', () => {
  it('throws nothing but FramingError, ends in bounded time, and never hands on more than the maximum', () => {
    let seed = 0x5eed;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = [
      '\n',
      '#',
      '1',
      '9',
      '0',
      ']',
      '>',
      'x',
      '<',
      '##',
      '\n#',
      ']]>]]>',
      '\n##\n',
      '\n#5\n',
    ];
    const started = Date.now();
    const max = 4096;
    for (let iter = 0; iter < 3000; iter++) {
      const framing: Framing = rand(2) === 0 ? 'eom' : 'chunked';
      const decoder = new FrameDecoder({ framing, maxMessageBytes: max });
      let inMessage = 0;
      const sink = {
        data: (b: Buffer) => {
          assert.ok(b.length > 0);
          inMessage += b.length;
          assert.ok(inMessage <= max);
        },
        end: () => (inMessage = 0),
      };
      try {
        for (let reads = rand(20); reads >= 0; reads--) {
          let s = '';
          for (let k = rand(40); k >= 0; k--)
            s += rand(4) === 0 ? String.fromCharCode(rand(256)) : (alphabet[rand(alphabet.length)] as string);
          if (rand(10) === 0) s += 'y'.repeat(rand(3 * max));
          decoder.push(Buffer.from(s, 'latin1'), sink);
        }
      } catch (e) {
        assert.ok(e instanceof FramingError, `unexpected ${String(e)}`);
      }
    }
    assert.ok(Date.now() - started < 10_000);
  });
});
