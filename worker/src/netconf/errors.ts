/** The errors the NETCONF layer throws; the collector maps them to a SessionFailureReason. */

export type FramingErrorCode = 'MessageTooLarge' | 'BadChunkHeader' | 'EmptyMessage';

/** The byte stream cannot be split into messages any more: the session cannot go on. */
export class FramingError extends Error {
  constructor(
    readonly code: FramingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FramingError';
  }
}

/** A reply or notification that is not well-formed XML, or not the NETCONF shape expected. */
export class MalformedMessageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedMessageError';
  }
}

export type RpcErrorSeverity = 'error' | 'warning';

/** One `<rpc-error>` (RFC 6241 §4.3), fields as the server sent them. */
export interface RpcErrorInfo {
  readonly errorType: string;
  readonly errorTag: string;
  readonly severity: RpcErrorSeverity;
  readonly appTag?: string;
  readonly path?: string;
  readonly message?: string;
}

/** The server answered an RPC with `<rpc-error>`: the session is fine, the request was not. */
export class RpcError extends Error {
  readonly errorTag: string;
  readonly errorType: string;
  readonly severity: RpcErrorSeverity;
  readonly appTag: string | undefined;
  readonly path: string | undefined;

  constructor(
    readonly errors: readonly RpcErrorInfo[],
    readonly operation: string,
  ) {
    const first = errors[0] ?? { errorTag: 'unknown', errorType: 'rpc', severity: 'error' as const };
    super(
      `${operation}: rpc-error ${first.errorTag} (${first.errorType})${first.message ? `: ${first.message}` : ''}`,
    );
    this.name = 'RpcError';
    this.errorTag = first.errorTag;
    this.errorType = first.errorType;
    this.severity = first.severity;
    this.appTag = first.appTag;
    this.path = first.path;
  }
}

/** No reply within the RPC's deadline. */
export class RpcTimeoutError extends Error {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation}: no reply within ${timeoutMs} ms`);
    this.name = 'RpcTimeoutError';
  }
}
