/**
 * Files in audio storage as the activities check and describe them: inputs within their limits,
 * stems only inside the separator's output folder, hashes and WAV facts for the stem descriptors.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { StemDescriptor } from '@switchforge/platform/audio/stem-descriptor';
import { AudioInputError, PythonProcessError } from './errors.js';
import { readWavInfo } from './wav-info.js';

export async function hashStoredFile(
  path: string,
  maxBytes: number,
): Promise<{ bytes: number; sha256: string }> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) throw new AudioInputError('SourceNotFound', 'the input file does not exist in storage');
  if (s.size === 0) throw new AudioInputError('EmptyAudio', 'the input file is empty (0 bytes)');
  if (s.size > maxBytes)
    throw new AudioInputError(
      'TooLarge',
      `the input file is ${s.size} bytes, over the ${maxBytes}-byte limit`,
    );
  return { bytes: s.size, sha256: await sha256Of(path) };
}

const AUDIO_EXTENSIONS = new Set([
  '.wav',
  '.mp3',
  '.flac',
  '.ogg',
  '.oga',
  '.opus',
  '.m4a',
  '.aac',
  '.aif',
  '.aiff',
  '.webm',
]);

/** Decoders pick a demuxer by extension, so keep the source's when it names an audio format. */
export function extensionFor(url: string): string {
  const ext = extname(new URL(url).pathname).toLowerCase();
  return AUDIO_EXTENSIONS.has(ext) ? ext : '.audio';
}

/** The stem's file name, refusing one the separator wrote anywhere but its output folder. */
export function stemFileName(outDir: string, path: string): string {
  const rel = relative(outDir, path);
  if (rel === '' || rel.startsWith('..') || rel.includes(sep) || rel !== basename(path)) {
    throw new PythonProcessError(
      `separator wrote a stem outside its output folder: ${path}`,
      0,
      '',
      'PythonContractViolation',
    );
  }
  return rel;
}

export async function describeStem(name: string, key: string, path: string): Promise<StemDescriptor> {
  const [{ size }, wav, sha256] = await Promise.all([stat(path), readWavInfo(path), sha256Of(path)]);
  return {
    name,
    path: key,
    format: 'wav',
    contentType: 'audio/wav',
    bytes: size,
    durationS: Math.round(wav.durationS * 1000) / 1000,
    sha256,
  };
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
