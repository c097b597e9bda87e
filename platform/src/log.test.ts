import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createLogger } from './log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger(stream) };
}

test('a log line is one JSON object with time, level name, message and the given fields', () => {
  const { lines, log } = capture();
  log.warn('device unreachable', { device: 'leaf1', attempt: 3 });
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line?.level, 'warn');
  assert.equal(line?.msg, 'device unreachable');
  assert.equal(line?.device, 'leaf1');
  assert.equal(line?.attempt, 3);
  assert.ok(!Number.isNaN(Date.parse(String(line?.time))), 'time is an ISO timestamp');
  assert.equal(line?.trace_id, undefined, 'outside a span there are no trace ids');
});

test('a line written inside a span carries its trace and span ids', async () => {
  const provider = new NodeTracerProvider();
  provider.register();
  try {
    const { lines, log } = capture();
    const ids = trace.getTracer('test').startActiveSpan('reconcile', (span) => {
      log.info('reconciled');
      span.end();
      return span.spanContext();
    });
    assert.match(ids.traceId, /^[0-9a-f]{32}$/);
    assert.equal(lines[0]?.trace_id, ids.traceId);
    assert.equal(lines[0]?.span_id, ids.spanId);
    assert.equal(lines[0]?.trace_flags, '01');
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
  }
});

test('debug lines are left out unless debugging is on', () => {
  const { lines, log } = capture();
  log.debug('noisy');
  assert.equal(lines.length, process.env.SWITCHFORGE_DEBUG ? 1 : 0);
});
