/**
 * Durations as the CRD schemas accept them: Go's time.ParseDuration syntax without sign
 * ("10s", "1m30s", "1.5h", "250ms"), the same pattern the schemas declare.
 */
import { InputError } from '../errors.js';

/** The pattern in crds/*.yaml, kept identical so that what the apiserver admits parses here. */
export const DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/;

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds in a duration string; throws InputError on anything the schema would reject. */
export function parseDuration(text: string): number {
  if (!DURATION_PATTERN.test(text)) {
    throw new InputError(
      `invalid duration ${JSON.stringify(text)}: expected e.g. "10s", "1m30s", "250ms"`,
      'InvalidDuration',
    );
  }
  let total = 0;
  for (const [, value, , unit] of text.matchAll(/([0-9]+(\.[0-9]+)?)(ns|us|ms|s|m|h)/g)) {
    total += Number(value) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return total;
}
