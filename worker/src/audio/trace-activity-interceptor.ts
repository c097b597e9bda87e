/**
 * The activity side of the trace: each activity runs inside a `RunActivity:<type>` span whose
 * parent is the context its headers carry (the span that started the workflow, e.g. the
 * operator's reconcile), and that span is active for the activity's own spans and its Python
 * child (python-process.ts passes it on as TRACEPARENT).
 */
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context as ActivityContext } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
} from '@temporalio/worker';
import { traceContextFrom } from '@switchforge/platform/audio/trace-context';

const tracer = trace.getTracer('switchforge-audio-worker');

export const traceActivityInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: new TracedActivityInbound(ctx),
});

class TracedActivityInbound implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: ActivityContext) {}

  execute(
    input: ActivityExecuteInput,
    next: (input: ActivityExecuteInput) => Promise<unknown>,
  ): Promise<unknown> {
    const info = this.ctx.info;
    const attributes = {
      'temporal.activity.type': info.activityType,
      'temporal.activity.id': info.activityId,
      'temporal.activity.attempt': info.attempt,
      'temporal.task_queue': info.taskQueue,
      ...(info.workflowExecution
        ? {
            'temporal.workflow.id': info.workflowExecution.workflowId,
            'temporal.run.id': info.workflowExecution.runId,
          }
        : {}),
    };
    return tracer.startActiveSpan(
      `RunActivity:${info.activityType}`,
      { attributes },
      traceContextFrom(input.headers),
      async (span) => {
        try {
          return await next(input);
        } catch (e) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }
}
