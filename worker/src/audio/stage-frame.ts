/**
 * The frame every audio stage runs in (span, heartbeats, throttled progress, metrics, the error
 * edge) and the forwarder that carries a stage's progress to the workflow and the result sink.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { errorMessage, isSwitchforgeError } from '@switchforge/platform/errors';
import type { AudioStage, ProgressUpdate } from '@switchforge/platform/audio/types';
import { PROGRESS_SIGNAL } from '@switchforge/platform/audio/workflow-id';
import type { ActivityDeps } from './activities.js';
import { PythonAbortedError, toApplicationFailure } from './errors.js';
import { recordStage, recordStageFailure } from './metrics.js';
import type { SinkJob } from './result-sink.js';

const tracer = trace.getTracer('switchforge-audio-worker');

export type Report = (percent: number, message?: string) => void;

/**
 * The frame every stage runs in: a span, a heartbeat ticker (cancellation only arrives with a
 * heartbeat), throttled progress to the workflow and the sink, metrics, and the error edge.
 */
export async function runStage<T>(
  deps: ActivityDeps,
  job: SinkJob,
  stage: AudioStage,
  body: (report: Report, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  const started = performance.now();
  const progress = new ProgressForwarder(ctx, deps, job, stage);
  const ticker = setInterval(() => progress.heartbeat(), deps.heartbeatIntervalMs ?? 1_000);
  progress.report(0, ctx.info.attempt > 1 ? `attempt ${ctx.info.attempt}` : 'started');
  return tracer.startActiveSpan(
    `audio.${stage}`,
    {
      attributes: { 'switchforge.audio.job_uid': job.jobUid, 'switchforge.audio.attempt': ctx.info.attempt },
    },
    async (span) => {
      try {
        const result = await body((p, m) => progress.report(p, m), ctx.cancellationSignal);
        progress.report(100, 'done');
        await progress.flush();
        recordStage(stage, seconds(started), 'ok');
        return result;
      } catch (e) {
        if (ctx.cancellationSignal.aborted || e instanceof PythonAbortedError) {
          recordStage(stage, seconds(started), 'cancelled');
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'cancelled' });
          const reason: unknown = ctx.cancellationSignal.reason;
          throw reason instanceof Error ? reason : new CancelledFailure(`${stage} cancelled`);
        }
        const reason = isSwitchforgeError(e) ? e.reason : 'Internal';
        recordStage(stage, seconds(started), 'failed');
        recordStageFailure(stage, reason);
        span.recordException(e instanceof Error ? e : new Error(errorMessage(e)));
        span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
        throw toApplicationFailure(e);
      } finally {
        clearInterval(ticker);
        span.end();
      }
    },
  );
}

/**
 * Heartbeats with the latest progress and forwards it, throttled, to the workflow (signal) and
 * the sink. A stage's end (100 %) goes to the sink only: the activity's completion tells the
 * workflow, and a signal round trip there would delay every stage hand-over.
 */
class ProgressForwarder {
  private last: ProgressUpdate;
  private lastSentAt = 0;
  private recording: Promise<void> = Promise.resolve();
  private signalling: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: Context,
    private readonly deps: ActivityDeps,
    private readonly job: SinkJob,
    stage: AudioStage,
  ) {
    this.last = { stage, percent: 0 };
  }

  report(percent: number, message?: string): void {
    this.last = {
      stage: this.last.stage,
      percent: Math.round(percent * 10) / 10,
      ...(message !== undefined ? { message } : {}),
    };
    this.heartbeat();
    if (Date.now() - this.lastSentAt >= (this.deps.progressIntervalMs ?? 1_000) || percent >= 100)
      this.send(percent < 100);
  }

  heartbeat(): void {
    this.ctx.heartbeat(this.last);
  }

  /** Waits for the sink's writes, so none lands after the stage's result (which would undo it). */
  flush(): Promise<void> {
    return this.recording;
  }

  private send(signal: boolean): void {
    this.lastSentAt = Date.now();
    const update = this.last;
    const warn = (e: unknown) => this.ctx.log.warn('progress not delivered', { error: errorMessage(e) });
    // Each chained so updates arrive in order; failures are logged, progress is best effort.
    this.recording = this.recording
      .then(() => this.deps.resultSink.recordProgress(this.job, update.stage, update.percent, update.message))
      .catch(warn);
    const execution = this.ctx.info.workflowExecution;
    if (!signal || !execution) return;
    const handle = this.ctx.client.workflow.getHandle(execution.workflowId, execution.runId);
    this.signalling = this.signalling.then(() => handle.signal(PROGRESS_SIGNAL, update)).catch(warn);
  }
}

export function seconds(startedPerf: number): number {
  return (performance.now() - startedPerf) / 1000;
}
