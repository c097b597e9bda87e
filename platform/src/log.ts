/**
 * Structured one-line JSON logs on stderr, the shape log collectors expect from pods, through
 * pino. A line written inside an active span carries its `trace_id`, `span_id` and `trace_flags`
 * (the OpenTelemetry log data model's field names), so a log line leads to its trace.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';

type Fields = Record<string, unknown>;

/** The active span's ids, or nothing outside a span. */
export function traceFields(): Fields {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: `0${context.traceFlags.toString(16)}`.slice(-2),
  };
}

/** A logger writing to `destination` (stderr by default); exported for tests. */
export function createLogger(destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })) {
  // Synchronous writes: a process that exits on a fatal error still gets its last line out.
  const logger = pino(
    {
      level: process.env.SWITCHFORGE_DEBUG ? 'debug' : (process.env.LOG_LEVEL ?? 'info'),
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
    },
    destination,
  );
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: Fields): void =>
      logger[level](fields ?? {}, msg);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const log = createLogger();
