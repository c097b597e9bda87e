import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultPayloadConverter } from '@temporalio/common';
import { traceContextFrom, withTraceContext } from './trace-context.js';
import { TRACE_HEADER } from './workflow-id.js';

describe('trace context in Temporal headers', () => {
  const spanContext = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
  };
  before(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
  after(() => propagation.disable());

  it('round-trips the span context in the header Temporal’s own interceptors use', () => {
    const headers = withTraceContext({}, trace.setSpanContext(ROOT_CONTEXT, spanContext));
    assert.deepEqual(defaultPayloadConverter.fromPayload(headers[TRACE_HEADER]!), {
      traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-01`,
    });
    const back = trace.getSpanContext(traceContextFrom(headers));
    assert.deepEqual(back, { ...spanContext, isRemote: true });
  });

  it('leaves the headers alone when there is no span, and reads no context from them', () => {
    assert.deepEqual(withTraceContext({ other: defaultPayloadConverter.toPayload(1) }, ROOT_CONTEXT), {
      other: defaultPayloadConverter.toPayload(1),
    });
    assert.equal(trace.getSpanContext(traceContextFrom({})), undefined);
    assert.equal(trace.getSpanContext(traceContextFrom(undefined)), undefined);
  });

  it('ignores a header that is not a trace context', () => {
    for (const junk of ['not an object', { traceparent: 'garbage' }, { traceparent: 42 }]) {
      const headers = { [TRACE_HEADER]: defaultPayloadConverter.toPayload(junk) };
      assert.equal(trace.getSpanContext(traceContextFrom(headers)), undefined, JSON.stringify(junk));
    }
  });
});
