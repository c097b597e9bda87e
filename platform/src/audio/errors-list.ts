/** Failure types, importable from workflow code (no Node or SDK imports here). */

/** Reasons the Python scripts report for input they cannot process (exit 2). */
export const AUDIO_INPUT_CODES = [
  'UnsupportedAudio',
  'CorruptAudio',
  'EmptyAudio',
  'TooLarge',
  'InvalidArgument',
] as const;
export type AudioInputCode = (typeof AUDIO_INPUT_CODES)[number];

/** Reasons the TypeScript side rejects a source before Python sees it. */
export const SOURCE_INPUT_REASONS = [
  'SourceNotFound',
  'UnsupportedContentType',
  'ChecksumMismatch',
  'PathOutsideStorage',
  'InvalidSource',
  'SourceForbidden',
] as const;
export type SourceInputReason = (typeof SOURCE_INPUT_REASONS)[number];

/** Every failure type a retry would not fix; workflows list them as `nonRetryableErrorTypes`. */
export const NON_RETRYABLE_AUDIO_ERRORS: readonly string[] = [...AUDIO_INPUT_CODES, ...SOURCE_INPUT_REASONS];
