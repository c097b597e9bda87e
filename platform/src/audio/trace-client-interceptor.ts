/**
 * The Temporal client side of the trace: a workflow started inside a span (the operator's
 * reconcile) carries that span's context in its start headers, for the workflow to hand on to
 * its activities (trace-workflow-interceptors.ts). For `new Client({ interceptors: { workflow:
 * [traceContextClientInterceptor] } })`.
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { withTraceContext } from './trace-context.js';

export const traceContextClientInterceptor: WorkflowClientInterceptor = {
  startWithDetails: (input, next) => next({ ...input, headers: withTraceContext(input.headers) }),
  signalWithStart: (input, next) => next({ ...input, headers: withTraceContext(input.headers) }),
};
