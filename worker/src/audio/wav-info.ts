import { open } from 'node:fs/promises';
import { PythonProcessError } from './errors.js';

export interface WavInfo {
  readonly sampleRate: number;
  readonly channels: number;
  readonly durationS: number;
}

/**
 * Duration from a RIFF/WAVE header: the `fmt ` chunk's byte rate and the `data` chunk's size.
 * Reads only the chunk headers (the first 64 KiB at most), never the samples.
 */
export async function readWavInfo(path: string): Promise<WavInfo> {
  const f = await open(path, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await f.read(head, 0, head.length, 0);
    return parseWavHeader(head.subarray(0, bytesRead), path);
  } finally {
    await f.close();
  }
}

export function parseWavHeader(b: Buffer, what = 'stem'): WavInfo {
  const bad = (why: string) =>
    new PythonProcessError(
      `${what} is not a WAV file the pipeline can describe: ${why}`,
      0,
      '',
      'PythonContractViolation',
    );
  if (b.length < 12 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE')
    throw bad('no RIFF/WAVE header');
  let off = 12;
  let fmt: { channels: number; sampleRate: number; byteRate: number } | undefined;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ' && off + 24 <= b.length) {
      fmt = {
        channels: b.readUInt16LE(off + 10),
        sampleRate: b.readUInt32LE(off + 12),
        byteRate: b.readUInt32LE(off + 16),
      };
    } else if (id === 'data') {
      if (!fmt || fmt.byteRate === 0) throw bad('data before a usable fmt chunk');
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, durationS: size / fmt.byteRate };
    }
    off += 8 + size + (size % 2);
  }
  throw bad('no data chunk in the header');
}
