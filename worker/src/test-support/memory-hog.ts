/**
 * A device worker's writer and live ring filling up while PostgreSQL is down, at `HOG_RATE`
 * updates/s (default 200,000: twice the full rate the ingest benchmark drives a worker at), for
 * memory-guard.test.ts. `--guard` wires the MemoryGuard to them as
 * device-process.ts does; without it the process grows until V8 or the kernel kills it.
 * Prints one JSON line with what happened and exits 0 after `SECONDS`.
 */
import { LiveFeed } from '../live/live-feed.js';
import { MemoryGuard } from '../device/memory-guard.js';
import { MetricWriter } from '../device/metric-writer.js';
import type { Sample } from '../device/sample.js';

const guarded = process.argv.includes('--guard');
const seconds = Number(process.env.HOG_SECONDS ?? 8);
const rate = Number(process.env.HOG_RATE ?? 200_000);
const limitBytes = Number(process.env.SWITCHFORGE_MEMORY_LIMIT_BYTES ?? 0);
// The ring's bound as the operator's plan sets it (SWITCHFORGE_LIVE_RING_BYTES), else 8 MiB.
const feed = new LiveFeed({
  retention: { maxBytes: Number(process.env.SWITCHFORGE_LIVE_RING_BYTES ?? 8 * 2 ** 20) },
});
const writer = new MetricWriter({
  // Port 1 on loopback: nothing listens, every batch fails and stays buffered.
  databaseUrl: 'postgres://nobody:nothing@127.0.0.1:1/none?connect_timeout=1',
  batchSize: 5000,
  flushIntervalMs: 50,
  maxBufferedSamples: 50_000_000,
  onAdding: (n) => {
    if (guarded) guard.noteBuffered(n);
  },
});
let sheddingSeen = false;
const guard = new MemoryGuard({
  limitBytes,
  intervalMs: 100,
  onPressure: (on) => {
    sheddingSeen ||= on;
    writer.setMemoryPressure(on);
    feed.setMemoryPressure(on);
  },
});
if (guarded) guard.start();

let peakRss = 0;
let produced = 0;
const started = Date.now();
const deadline = started + seconds * 1000;
// Where the schedule counts from: moved forward when the process falls behind (a CPU-starved
// run), so it never catches up in bursts above the stated rate.
let base = started;
let baseProduced = 0;
while (Date.now() < deadline) {
  const samples: Sample[] = [];
  const ts = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < 2000; i++) {
    samples.push({
      device: 'lab/leaf1',
      path: `/interfaces/interface/state/counters/in-octets`,
      labels: { name: `Ethernet${produced + i}` },
      timestampNs: ts + BigInt(i),
      value: produced + i,
    });
  }
  produced += samples.length;
  writer.add(samples);
  // The ring holds what would have committed: here every batch, to load it too.
  feed.publish({ device: 'lab/leaf1', samples: samples.slice(0, 200) });
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  // Let timers, the guard and the failing connections run; hold the rate.
  let ahead = base + ((produced - baseProduced) / rate) * 1000 - Date.now();
  if (ahead < -100) {
    base = Date.now();
    baseProduced = produced;
    ahead = 0;
  }
  await new Promise((r) => (ahead > 1 ? setTimeout(r, ahead) : setImmediate(r)));
}
guard.stop();
console.log(
  JSON.stringify({
    produced,
    dropped: writer.dropped,
    droppedUnderPressure: writer.droppedUnderPressure,
    sheddingSeen,
    peakRssMiB: Math.round(peakRss / 2 ** 20),
  }),
);
process.exit(0);
