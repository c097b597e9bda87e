import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { useInfra, type Infra } from './suite.js';
import * as activities from './fixtures/greeting-activities.js';

let infra: Infra;
before(async () => {
  infra = await useInfra({ temporal: true });
});
after(async () => {
  await infra.stop();
});

test('a workflow runs to completion on the local Temporal server through a real worker and client', async () => {
  const taskQueue = `smoke-${process.pid}`;
  const nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: infra.temporal.namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./fixtures/greeting-workflow.ts', import.meta.url)),
    activities,
  });
  const connection = await Connection.connect({ address: infra.temporal.address });
  try {
    const client = new Client({ connection, namespace: infra.temporal.namespace });
    const result = await worker.runUntil(
      client.workflow.execute('greetingWorkflow', {
        taskQueue,
        workflowId: `smoke-${Date.now()}`,
        args: [{ name: 'switchforge' }],
      }),
    );
    assert.deepEqual(result, { greeting: 'hello, switchforge' });
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
});
