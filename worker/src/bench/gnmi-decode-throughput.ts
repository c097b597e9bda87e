/**
 * Quick throughput check of the gNMI decode path (not a test):
 *   node --import tsx worker/src/bench/gnmi-decode-throughput.ts
 * 1. decode only: protobuf bytes -> SubscribeResponse -> Sample[], in-process.
 * 2. end to end: the simulator's firehose over loopback into GnmiCollector (both in this process,
 *    so the figure is a floor: simulator encoding shares the same core).
 */
import { parsePath } from '@switchforge/platform/gnmi/paths';
import { startGnmiSimulator } from '@switchforge/simulators/gnmi/server';
import { GnmiCollector } from '../gnmi/collector.js';
import { notificationToSamples } from '../gnmi/notifications.js';
import { codecs, type Update } from '../gnmi/proto.js';

function decodeOnly(): number {
  const updates: Update[] = [];
  const leaves = ['in-octets', 'out-octets', 'in-pkts', 'out-pkts', 'in-errors'];
  for (let i = 0; i < 1000; i++) {
    updates.push({
      path: parsePath(`/interfaces/interface[name=Ethernet${i % 200}]/state/counters/${leaves[i % 5]}`),
      val: { uint_val: 1_000_000_000 + i },
    });
  }
  const bytes = codecs.SubscribeResponse.encode({
    update: { timestamp: '1700000000123456789', prefix: { target: 'leaf1' }, update: updates },
  });
  const ctx = { device: 'lab/leaf1', onMalformed: () => {} };
  const run = () => notificationToSamples(codecs.SubscribeResponse.decode(bytes).update!, ctx).length;
  for (let i = 0; i < 100; i++) run();
  const t0 = process.hrtime.bigint();
  let n = 0;
  while (process.hrtime.bigint() - t0 < 2_000_000_000n) n += run();
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function endToEnd(rate: number): Promise<number> {
  // GNMI_BENCH_PORT: measure against a simulator in another process (main.ts --rate N).
  const external = process.env.GNMI_BENCH_PORT;
  const sim = external
    ? { port: Number(external), stop: async () => {} }
    : await startGnmiSimulator({ devices: 1, interfaces: 200, rate, batchSize: 1000 });
  const collector = new GnmiCollector({
    address: '127.0.0.1',
    port: sim.port,
    tls: { mode: 'insecure' },
    deviceName: 'bench',
    encoding: 'proto',
    subscriptions: [{ path: '/interfaces', mode: 'sample', sampleInterval: 1000 }],
  });
  let n = 0;
  let t0 = 0n;
  const ac = new AbortController();
  const run = collector.run(
    {
      onSamples: (s) => {
        if (t0 === 0n) t0 = process.hrtime.bigint();
        else n += s.length;
      },
      onState: () => {},
      onMalformed: () => {},
    },
    ac.signal,
  );
  await new Promise((r) => setTimeout(r, 3000));
  ac.abort();
  await run;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  collector.close();
  await sim.stop();
  return n / secs;
}

const fmt = (x: number) => `${Math.round(x).toLocaleString('en-US')} updates/s`;
console.log(`decode only (1000 uint updates per notification): ${fmt(decodeOnly())}`);
console.log(
  `end to end, simulator firehose at 150k/s offered${process.env.GNMI_BENCH_PORT ? ' (external simulator)' : ''}: ${fmt(await endToEnd(150_000))}`,
);
