import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTelemetry } from './index.js';

async function scrape(port: number | undefined): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

test('with runtime metrics on, the endpoint serves the Node.js semantic-convention metrics', async () => {
  const telemetry = await startTelemetry({
    serviceName: 'runtime-test',
    prometheusPort: 0,
    prometheusHost: '127.0.0.1',
    runtimeMetrics: true,
  });
  try {
    // The event-loop delay gauges report once the histogram holds five samples (10 ms each).
    await new Promise((res) => setTimeout(res, 500));
    const text = await scrape(telemetry.prometheusPort);
    for (const name of [
      /^v8js_memory_heap_used\{/m,
      /^v8js_memory_heap_space_physical_size\{/m,
      /^nodejs_eventloop_delay_p99\{/m,
      /^nodejs_eventloop_utilization\{/m,
    ])
      assert.match(text, name);
    // One series per V8 heap space; together they are the heap in use.
    const heapUsed = [...text.matchAll(/^v8js_memory_heap_used\{[^}]*\} (\S+)/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    assert.ok(heapUsed > 1_000_000, `the heap in use is a real figure (${heapUsed} bytes)`);
  } finally {
    await telemetry.shutdown();
  }
});

test('without runtime metrics, none of them are exported', async () => {
  const telemetry = await startTelemetry({
    serviceName: 'runtime-test',
    prometheusPort: 0,
    prometheusHost: '127.0.0.1',
  });
  try {
    const text = await scrape(telemetry.prometheusPort);
    assert.doesNotMatch(text, /^(v8js|nodejs)_/m);
  } finally {
    await telemetry.shutdown();
  }
});
