import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interfacesTree } from '@switchforge/simulators/netconf/interfaces-tree';
import { LEAVES_PER_INTERFACE, startNetconfSimulator } from '@switchforge/simulators/netconf';
import { NetconfSession } from './session.js';

describe('a reply bigger than 50 MB', () => {
  it('is parsed into every row while memory grows far less than the reply', async () => {
    const interfaces = 100_000; // about 53 MB of XML
    let replyBytes = 0;
    for (const part of interfacesTree(interfaces, 1)) replyBytes += Buffer.byteLength(part);
    assert.ok(replyBytes > 50 * 1024 * 1024, `reply is ${replyBytes} bytes`);
    const sim = await startNetconfSimulator({ interfaces });
    const session = await NetconfSession.connect({
      host: '127.0.0.1',
      port: sim.port,
      username: 'admin',
      password: 'admin',
      hostKey: sim.hostKey,
      device: 'd',
      rpcTimeoutMs: 120_000,
    });
    try {
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const probe = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      let rows = 0;
      const count = await session.get(undefined, (batch) => {
        rows += batch.length;
      });
      clearInterval(probe);
      assert.equal(count, interfaces * LEAVES_PER_INTERFACE);
      assert.equal(rows, count);
      const growthMb = (peak - baseline) / 1024 / 1024;
      assert.ok(growthMb < 200, `memory grew ${growthMb.toFixed(0)} MB`);
    } finally {
      await session.close();
      await sim.stop();
    }
  });
});
