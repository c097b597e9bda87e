import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { parseSpanLine, recordPythonSpan } from './python-spans.js';

describe('span lines from the Python workers', () => {
  const ok = { type: 'span', name: 'separator.decode', start: 1_700_000_000.25, end: 1_700_000_001.5 };
  const cases: Array<{ name: string; line: Record<string, unknown>; valid: boolean }> = [
    { name: 'a phase with times', line: ok, valid: true },
    {
      name: 'a phase with attributes',
      line: { ...ok, attributes: { 'audio.duration_s': 3, device: 'cpu', ok: true } },
      valid: true,
    },
    { name: 'a zero-length phase', line: { ...ok, end: ok.start }, valid: true },
    { name: 'a phase that ends before it starts', line: { ...ok, end: ok.start - 1 }, valid: false },
    { name: 'no name', line: { ...ok, name: '' }, valid: false },
    { name: 'times as strings', line: { ...ok, start: '1700000000' }, valid: false },
    { name: 'a nested attribute value', line: { ...ok, attributes: { shape: [2, 3] } }, valid: false },
    { name: 'a progress line', line: { type: 'progress', percent: 5 }, valid: false },
  ];
  for (const c of cases) {
    it(`${c.valid ? 'accepts' : 'refuses'} ${c.name}`, () => {
      assert.equal(parseSpanLine(c.line) !== undefined, c.valid);
    });
  }

  it('become spans with the times Python measured, under the given parent, failed ones marked', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test');
    const parent = tracer.startSpan('python switchforge_audio.separator');
    const ctx = trace.setSpan(ROOT_CONTEXT, parent);
    recordPythonSpan(tracer, parseSpanLine({ ...ok, attributes: { device: 'cpu' } })!, ctx);
    recordPythonSpan(
      tracer,
      parseSpanLine({ ...ok, name: 'separator.load_model', attributes: { error: 'OSError' } })!,
      ctx,
    );
    parent.end();

    const [decode, load] = exporter.getFinishedSpans();
    assert.equal(decode?.name, 'separator.decode');
    assert.deepEqual(decode?.startTime, [1_700_000_000, 250_000_000]);
    assert.deepEqual(decode?.endTime, [1_700_000_001, 500_000_000]);
    assert.equal(decode?.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(decode?.spanContext().traceId, parent.spanContext().traceId);
    assert.deepEqual(decode?.attributes, { device: 'cpu' });
    assert.equal(decode?.status.code, SpanStatusCode.UNSET);
    assert.equal(load?.status.code, SpanStatusCode.ERROR);
    assert.equal(load?.status.message, 'OSError');
  });
});
