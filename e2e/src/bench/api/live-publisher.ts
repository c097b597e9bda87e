/**
 * Child process of the live benchmark: the worker side of the live path (a LiveFeed and its live
 * server on loopback), in a process of its own as in a cluster, so that a busy API cannot delay
 * its commits. On request it commits batches of one sample whose value is the commit time
 * (epoch ms, fractional), stamped right before `publish`: paced (`count` at `intervalMs`) or all
 * at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveFeed } from '@switchforge/worker/live/live-feed';
import { startLiveServer } from '@switchforge/worker/live/live-server';

export type PublisherRequest =
  { type: 'publish'; device: string; count: number; intervalMs: number } | { type: 'stop' };

export interface PublisherReply {
  type: 'listening' | 'published';
  port?: number;
  /** Commit time of the first batch (epoch ms). */
  first?: number;
}

const feed = new LiveFeed();
const live = await startLiveServer(feed, { host: '127.0.0.1', port: 0 });
const now = () => performance.timeOrigin + performance.now();

function publish(device: string): number {
  const committedAt = now();
  feed.publish({
    device,
    samples: [
      {
        device,
        path: '/bench',
        labels: {},
        timestampNs: BigInt(Math.round(committedAt * 1e6)),
        value: committedAt,
      },
    ],
  });
  return committedAt;
}

process.on('message', (m: PublisherRequest) => {
  if (m.type === 'stop') {
    void live.close().then(() => process.exit(0));
    return;
  }
  void (async () => {
    let first = 0;
    // Paced on the wall clock, so a late timer does not stretch the run (nor lower the load).
    const start = now();
    for (let i = 0; i < m.count; i++) {
      const at = publish(m.device);
      if (i === 0) first = at;
      if (m.intervalMs > 0) await sleep(Math.max(0, start + (i + 1) * m.intervalMs - now()));
    }
    process.send!({ type: 'published', first } satisfies PublisherReply);
  })();
});

process.send!({ type: 'listening', port: live.port } satisfies PublisherReply);
