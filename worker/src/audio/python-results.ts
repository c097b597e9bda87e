/**
 * The contract between the audio activities and python-workers: the `result` line each script
 * prints last (python-workers/switchforge_audio/*), declared once and checked on arrival, and
 * the feature names where the analyzer's differ from the CRD's.
 */
import { z } from 'zod';
import type { AnalysisFeature } from '@switchforge/platform/audio/types';
import { PythonProcessError } from './errors.js';

/** The separator's result: stem name → file it wrote, the model and the device it ran on. */
export const SeparatorResult = z.object({
  type: z.literal('result'),
  stems: z.record(z.string(), z.string()),
  model: z.string(),
  device: z.string(),
  sample_rate: z.number(),
});

/** The analyzer's result: each feature asked for, null where the track has none. */
export const AnalyzerResult = z.object({
  type: z.literal('result'),
  duration_s: z.number(),
  tempo: z.object({ bpm: z.number(), confidence: z.number() }).nullish(),
  key: z.object({ tonic: z.string(), mode: z.string(), label: z.string(), confidence: z.number() }).nullish(),
  loudness_lufs: z.number().nullish(),
  energy: z.number().nullish(),
  spectral: z.object({ centroid_hz: z.number(), rolloff_hz: z.number() }).nullish(),
  onset_rate: z.number().nullish(),
});

/** The result, or a PythonContractViolation naming what does not match. */
export function parseResult<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new PythonProcessError(
      `${what} result does not match the contract: ${parsed.error.issues[0]?.message ?? ''}`,
      0,
      '',
      'PythonContractViolation',
    );
  }
  return parsed.data;
}

/** The CRD's feature names where the analyzer's differ (`onsets` is its `onset_rate`). */
export function pythonFeature(f: AnalysisFeature): string {
  return f === 'onsets' ? 'onset_rate' : f;
}
