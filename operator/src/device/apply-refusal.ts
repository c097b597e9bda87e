import { ApiException } from '@kubernetes/client-node';

/** The apiserver refused a child object for a reason that retrying the same object cannot fix. */
export interface ApplyRefusal {
  /** HTTP status: 422 Invalid, 400 BadRequest, 403 Forbidden (RBAC, quota, admission). */
  code: number;
  /** The apiserver's own words (its Status message). */
  message: string;
}

/**
 * The refusal in an apply error, or undefined for failures worth a plain retry (conflicts, rate
 * limits, the apiserver or network being down). The Status body carries the message a user
 * needs (`Deployment.apps "x" is invalid: metadata.labels: Invalid value: ...`).
 */
export function applyRefusal(e: unknown): ApplyRefusal | undefined {
  if (!(e instanceof ApiException)) return undefined;
  const code = e.code;
  if (code < 400 || code >= 500 || code === 409 || code === 429) return undefined;
  return { code, message: statusMessage(e.body) ?? `HTTP ${code}` };
}

function statusMessage(body: unknown): string | undefined {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}
