import { ApplicationFailure } from '@temporalio/common';
import { UnavailableError, isSwitchforgeError, errorMessage } from '@switchforge/platform/errors';
import { AudioInputError } from '@switchforge/platform/audio/input-error';

export {
  AUDIO_INPUT_CODES,
  NON_RETRYABLE_AUDIO_ERRORS,
  SOURCE_INPUT_REASONS,
} from '@switchforge/platform/audio/errors-list';
export type { AudioInputCode, SourceInputReason } from '@switchforge/platform/audio/errors-list';

export { AudioInputError };

/** A Python script crashed (exit 1, a signal, a broken contract): worth another attempt. */
export class PythonProcessError extends UnavailableError {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
    reason = 'PythonProcessFailed',
  ) {
    super(message, reason);
  }
}

/** The script ran past its deadline and was killed. */
export class PythonTimeoutError extends UnavailableError {
  constructor(message: string) {
    super(message, 'StageTimeout');
  }
}

/** The script was stopped because its caller aborted (activity cancellation). */
export class PythonAbortedError extends Error {
  constructor(message = 'python process aborted') {
    super(message);
    this.name = 'PythonAbortedError';
  }
}

/**
 * The activity edge: our typed errors become ApplicationFailures whose `type` is the reason, so the
 * workflow and the job status see `CorruptAudio`, not a class name, and non-retryable ones stop.
 */
export function toApplicationFailure(e: unknown): unknown {
  if (e instanceof ApplicationFailure) return e;
  if (isSwitchforgeError(e)) {
    return ApplicationFailure.create({
      type: e.reason,
      message: e.message,
      nonRetryable: !e.retryable,
      cause: e,
    });
  }
  return e instanceof Error ? e : new Error(errorMessage(e));
}
