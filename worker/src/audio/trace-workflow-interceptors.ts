/**
 * Workflow interceptors (run in Temporal's sandbox): the trace context the workflow was started
 * with is copied, as the same opaque header payload, onto every activity it schedules. No
 * OpenTelemetry here: decoding nothing and creating no spans keeps replay deterministic.
 * Registered through `workflowModules` / `workflowInterceptorModules` (see worker.ts).
 */
import type {
  ActivityInput,
  LocalActivityInput,
  Next,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { TRACE_HEADER } from '@switchforge/platform/audio/workflow-id';

type Payload = WorkflowExecuteInput['headers'][string];

export const interceptors: WorkflowInterceptorsFactory = () => {
  // One factory call per workflow execution, so this holder is per workflow, never shared.
  const started: { header?: Payload } = {};
  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
      const header = input.headers[TRACE_HEADER];
      if (header) started.header = header;
      return next(input);
    },
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
      return next(withStartHeader(input, started.header));
    },
    scheduleLocalActivity(
      input: LocalActivityInput,
      next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
    ) {
      return next(withStartHeader(input, started.header));
    },
  };
  return { inbound: [inbound], outbound: [outbound] };
};

function withStartHeader<T extends { readonly headers: ActivityInput['headers'] }>(
  input: T,
  header: Payload | undefined,
): T {
  if (!header || input.headers[TRACE_HEADER]) return input;
  return { ...input, headers: { ...input.headers, [TRACE_HEADER]: header } };
}
