import { createGraphQLError } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  UnavailableError,
  SwitchforgeError,
  isSwitchforgeError,
} from '@switchforge/platform/errors';

/** The caller presented no credentials, or ones the apiserver does not accept. */
export class UnauthenticatedError extends SwitchforgeError {
  readonly reason = 'Unauthenticated';
  readonly retryable = false;
}

/** The caller spent its request budget. */
export class RateLimitedError extends UnavailableError {
  constructor(message: string) {
    super(message, 'RateLimited');
  }
}

/** `extensions.code` for each error in the family; the one place where errors become GraphQL. */
export function errorCode(e: SwitchforgeError): string {
  if (e instanceof UnauthenticatedError) return 'UNAUTHENTICATED';
  if (e instanceof RateLimitedError) return 'RATE_LIMITED';
  if (e instanceof InputError) return 'BAD_USER_INPUT';
  if (e instanceof NotFoundError) return 'NOT_FOUND';
  if (e instanceof NotAllowedError) return 'FORBIDDEN';
  if (e instanceof ConflictError) return 'CONFLICT';
  if (e instanceof UnavailableError) return 'UNAVAILABLE';
  return 'INTERNAL_SERVER_ERROR';
}

const HTTP_STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429 };

/**
 * A typed error as a GraphQL error that survives masking (yoga masks everything that is not a
 * GraphQLError); anything else stays an unexpected error and is masked in production.
 */
export function toGraphQLError(e: unknown): GraphQLError | undefined {
  if (!isSwitchforgeError(e)) return undefined;
  const code = errorCode(e);
  const status = HTTP_STATUS[code];
  return createGraphQLError(e.message, {
    extensions: { code, reason: e.reason, ...(status ? { http: { status } } : {}) },
    originalError: e,
  });
}

/** Runs a resolver body, turning typed errors into GraphQL errors at this edge. */
export async function mapErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toGraphQLError(e) ?? e;
  }
}
