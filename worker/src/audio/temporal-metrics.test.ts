import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeConnection, Worker } from '@temporalio/worker';
import { useInfra, type Infra } from '@switchforge/testkit';
import { startTelemetry, type Telemetry } from '@switchforge/platform/telemetry';
import { installTemporalMetrics } from './temporal-metrics.js';

let infra: Infra;
let telemetry: Telemetry;
let temporalMetrics: { stop(): void };

before(async () => {
  telemetry = await startTelemetry({
    serviceName: 'temporal-metrics-test',
    prometheusPort: 0,
    prometheusHost: '127.0.0.1',
  });
  temporalMetrics = installTemporalMetrics(200);
  infra = await useInfra({ temporal: true });
});

after(async () => {
  temporalMetrics?.stop();
  await telemetry?.shutdown();
  await infra?.stop();
});

async function scrape(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${telemetry.prometheusPort}/metrics`)).text();
}

test("a running Temporal worker's own metrics leave through the process's Prometheus endpoint", async () => {
  const connection = await NativeConnection.connect({ address: infra.temporal.address });
  const taskQueue = `metrics-${process.pid}`;
  const worker = await Worker.create({
    connection,
    namespace: infra.temporal.namespace,
    taskQueue,
    activities: { noop: async () => undefined },
  });
  const running = worker.run();
  try {
    let text = '';
    for (let i = 0; i < 50 && !/^temporal_worker_task_slots_available\{/m.test(text); i++) {
      await sleep(200);
      text = await scrape();
    }
    // Slots of the activity worker, labelled with its task queue, as SDK Core reports them.
    const slots = new RegExp(
      `^temporal_worker_task_slots_available\\{[^}]*task_queue="${taskQueue}"[^}]*worker_type="ActivityWorker"[^}]*\\} (\\d+)`,
      'm',
    ).exec(text);
    assert.ok(
      slots,
      `no activity task slots in:\n${text
        .split('\n')
        .filter((l) => l.startsWith('temporal_'))
        .join('\n')}`,
    );
    assert.ok(Number(slots[1]) > 0, 'an idle worker has free slots');
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});
