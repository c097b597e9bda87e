import { InputError } from '../errors.js';
import type { AudioInputCode, SourceInputReason } from './errors-list.js';

/** The audio file or its source is bad: a retry gives the same answer. */
export class AudioInputError extends InputError {
  constructor(
    readonly code: AudioInputCode | SourceInputReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, code, options);
  }
}
