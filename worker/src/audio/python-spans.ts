/**
 * Span lines from the Python workers (`{"type":"span","name","start","end","attributes"}`,
 * epoch seconds; see python-workers/switchforge_audio/protocol.py) become OpenTelemetry spans
 * with those times, children of the span of the process that printed them. The venv thus needs
 * no OpenTelemetry package, and its phases still land in the job's trace.
 */
import { SpanStatusCode, type Context, type Tracer } from '@opentelemetry/api';
import { z } from 'zod';

const SpanLine = z.object({
  type: z.literal('span'),
  name: z.string().min(1).max(200),
  start: z.number().finite().positive(),
  end: z.number().finite().positive(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type PythonSpanLine = z.infer<typeof SpanLine>;

/** The line as a span line, or undefined when it is not a well-formed one (then it is noise). */
export function parseSpanLine(value: Record<string, unknown>): PythonSpanLine | undefined {
  const parsed = SpanLine.safeParse(value);
  return parsed.success && parsed.data.end >= parsed.data.start ? parsed.data : undefined;
}

/** Records an already finished Python phase under `parent`. */
export function recordPythonSpan(tracer: Tracer, line: PythonSpanLine, parent: Context): void {
  const span = tracer.startSpan(
    line.name,
    { startTime: line.start * 1000, ...(line.attributes ? { attributes: line.attributes } : {}) },
    parent,
  );
  // A phase that raised says which exception in `error`.
  const error = line.attributes?.error;
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  span.end(line.end * 1000);
}
