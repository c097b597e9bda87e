/**
 * The error family every component maps at its edge: a condition reason on a custom resource,
 * a GraphQL `extensions.code`, an exit code. Code in the middle throws these, never strings.
 */
export abstract class SwitchforgeError extends Error {
  /** CamelCase, machine readable: used as a Kubernetes condition reason. */
  abstract readonly reason: string;
  /** Whether trying the same thing again later may succeed. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller sent something invalid: a manifest field, a request argument, a file. */
export class InputError extends SwitchforgeError {
  readonly reason: string;
  readonly retryable = false;
  constructor(message: string, reason = 'InvalidInput', options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export class NotFoundError extends SwitchforgeError {
  readonly reason = 'NotFound';
  readonly retryable = false;
}

export class NotAllowedError extends SwitchforgeError {
  readonly reason = 'Forbidden';
  readonly retryable = false;
}

export class ConflictError extends SwitchforgeError {
  readonly reason = 'Conflict';
  readonly retryable = true;
}

/** A peer (switch, database, Temporal, HTTP source) could not be reached or failed transiently. */
export class UnavailableError extends SwitchforgeError {
  readonly reason: string;
  readonly retryable = true;
  constructor(message: string, reason = 'Unavailable', options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export function isSwitchforgeError(e: unknown): e is SwitchforgeError {
  return e instanceof SwitchforgeError;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
