import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiServer } from '../server.js';
import type { LiveFeed } from '../../../worker/src/live/live-feed.js';

export interface LatencyResult {
  subscribers: number;
  messages: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  fanoutPerSecond: number;
  rssPer1000SubscribersMiB: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Commit-to-receipt latency through the whole live path on one API replica: the worker's
 * LiveFeed publishes (stamping the commit time into the value), its live server streams to the
 * API, the API fans out over graphql-ws to `subscribers` real clients in a child process.
 */
export async function measureLiveLatency(
  api: ApiServer,
  feed: LiveFeed,
  device: { namespace: string; name: string },
  subscribers: number,
  options: { batches?: number; intervalMs?: number } = {},
): Promise<LatencyResult> {
  const child = fork(fileURLToPath(new URL('./subscribers.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: string) =>
    new Promise<{ type: string; latencies?: number[]; subscribed?: number }>((resolve, reject) => {
      const onMessage = (m: { type: string }) => {
        if (m.type === type) {
          child.off('message', onMessage);
          resolve(m);
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`subscriber process exited with ${code}`)));
    });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const ready = next('ready');
  child.send({ type: 'start', url: api.url, count: subscribers, ...device });
  await ready;
  await sleep(500);
  global.gc?.();
  const rssAfter = process.memoryUsage().rss;

  const batches = options.batches ?? 30;
  const intervalMs = options.intervalMs ?? 100;
  const key = `${device.namespace}/${device.name}`;
  const started = performance.now();
  for (let i = 0; i < batches; i++) {
    const committedAt = performance.timeOrigin + performance.now();
    feed.publish({
      device: key,
      samples: [
        {
          device: key,
          path: '/bench',
          labels: {},
          timestampNs: BigInt(Math.round(committedAt * 1e6)),
          value: committedAt,
        },
      ],
    });
    await sleep(intervalMs);
  }
  // Wait until (nearly) every message arrived or a deadline passes.
  let latencies: number[] = [];
  const expected = batches * subscribers;
  for (let t = 0; t < 120 && latencies.length < expected; t++) {
    const report = next('report');
    child.send({ type: 'report' });
    latencies = latencies.concat((await report).latencies ?? []);
    if (latencies.length < expected) await sleep(250);
  }
  const elapsed = (performance.now() - started) / 1000;
  child.send({ type: 'stop' });
  await new Promise((r) => child.once('exit', r));
  latencies.sort((a, b) => a - b);
  return {
    subscribers,
    messages: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? NaN,
    fanoutPerSecond: latencies.length / elapsed,
    rssPer1000SubscribersMiB: (((rssAfter - rssBefore) / subscribers) * 1000) / 1024 / 1024,
  };
}
