/**
 * W3C trace context in Temporal headers, through `@opentelemetry/api` only (the SDK, whatever its
 * major version, is the process entrypoint's business). Temporal's own
 * `@temporalio/interceptors-opentelemetry` (1.24) is built on OpenTelemetry SDK 1.x, while this
 * project runs SDK 2.x; these few lines speak its header format instead of pulling in both SDKs.
 */
import { ROOT_CONTEXT, context, propagation, type Context } from '@opentelemetry/api';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import { TRACE_HEADER } from './workflow-id.js';

/** `headers` plus the trace context of `ctx` (the active one by default), when there is one. */
export function withTraceContext(headers: Headers, ctx: Context = context.active()): Headers {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (Object.keys(carrier).length === 0) return headers;
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(carrier) };
}

/** The context the headers carry; the root context when they carry none or a malformed one. */
export function traceContextFrom(headers: Headers | undefined): Context {
  const payload = headers?.[TRACE_HEADER];
  if (!payload) return ROOT_CONTEXT;
  let carrier: unknown;
  try {
    carrier = defaultPayloadConverter.fromPayload(payload);
  } catch {
    return ROOT_CONTEXT;
  }
  if (carrier === null || typeof carrier !== 'object') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier as Record<string, unknown>, {
    keys: (c) => Object.keys(c),
    get: (c, key) => {
      const v = c[key];
      return typeof v === 'string' ? v : undefined;
    },
  });
}
