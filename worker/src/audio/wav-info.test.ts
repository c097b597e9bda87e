import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PythonProcessError } from './errors.js';
import { parseWavHeader } from './wav-info.js';

/** A RIFF/WAVE header: fmt (PCM or IEEE float), optional extra chunks, then data of `dataBytes`. */
function wav(opts: {
  rate: number;
  channels: number;
  bits: number;
  dataBytes: number;
  extra?: Buffer;
}): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(opts.bits === 32 ? 3 : 1, 8);
  fmt.writeUInt16LE(opts.channels, 10);
  fmt.writeUInt32LE(opts.rate, 12);
  fmt.writeUInt32LE((opts.rate * opts.channels * opts.bits) / 8, 16);
  fmt.writeUInt16LE((opts.channels * opts.bits) / 8, 20);
  fmt.writeUInt16LE(opts.bits, 22);
  const data = Buffer.alloc(8);
  data.write('data', 0, 'ascii');
  data.writeUInt32LE(opts.dataBytes, 4);
  const head = Buffer.from('RIFF\0\0\0\0WAVE', 'ascii');
  return Buffer.concat([head, fmt, opts.extra ?? Buffer.alloc(0), data]);
}

describe('parseWavHeader', () => {
  it('reads the duration of 16-bit PCM from the data size and byte rate', () => {
    const info = parseWavHeader(wav({ rate: 44_100, channels: 2, bits: 16, dataBytes: 44_100 * 4 * 3 }));
    assert.deepEqual(info, { sampleRate: 44_100, channels: 2, durationS: 3 });
  });

  it('skips chunks between fmt and data (a float WAV’s fact chunk, odd sizes padded)', () => {
    const fact = Buffer.concat([
      Buffer.from('fact', 'ascii'),
      Buffer.from([3, 0, 0, 0]),
      Buffer.from([1, 2, 3, 0]),
    ]);
    const info = parseWavHeader(
      wav({ rate: 48_000, channels: 2, bits: 32, dataBytes: 48_000 * 8, extra: fact }),
    );
    assert.equal(info.durationS, 1);
  });

  for (const [what, bytes] of [
    ['not RIFF', Buffer.from('ID3\u0004 an mp3 file')],
    ['no data chunk', wav({ rate: 8_000, channels: 1, bits: 16, dataBytes: 0 }).subarray(0, 36)],
  ] as const) {
    it(`refuses a stem that is ${what}`, () =>
      assert.throws(() => parseWavHeader(bytes), PythonProcessError));
  }
});
