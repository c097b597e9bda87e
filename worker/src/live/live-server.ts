import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import type { LiveFeed } from './live-feed.js';
import { LIVE_PATH } from '@switchforge/platform/device-worker';
import type { WireHeartbeat } from '@switchforge/platform/live-wire';

const meter = metrics.getMeter('switchforge-worker');
const readersGauge = meter.createUpDownCounter('switchforge.worker.live.readers', {
  description: 'Open live streams (API replicas following a device)',
});
const gapsSent = meter.createCounter('switchforge.worker.live.gaps', {
  description: 'Gap markers sent: a reader asked for, or fell behind to, batches no longer held',
});

export interface LiveServerOptions {
  /** `POD_IP` in a pod; 127.0.0.1 in tests. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  heartbeatMs?: number;
  /** Bytes a reader may leave unread in its socket before we stop writing and wait for it. */
  highWaterBytes?: number;
}

export interface LiveServer {
  port: number;
  /** Open streams and what each holds unsent (diagnostics and tests). */
  readers(): { device: string; bufferedBytes: number; waitingForDrain: boolean }[];
  close(): Promise<void>;
}

interface ReaderState {
  device: string;
  res: ServerResponse;
  waitingForDrain: boolean;
}

/**
 * Serves the feed as NDJSON: `GET /live/v1/batches?device=<ns>/<name>&since=<seq>[&follow=0]`
 * replays the ring after `since` (a gap marker first when the ring no longer reaches back that
 * far), then follows live. Each reader is a cursor into the shared ring rather than a queue of
 * its own: a slow reader costs no memory beyond its socket buffer, and one that falls out of the
 * ring gets a gap marker and continues from the oldest batch held.
 */
export async function startLiveServer(feed: LiveFeed, options: LiveServerOptions): Promise<LiveServer> {
  const open = new Set<ReaderState>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://live');
    if (req.method !== 'GET' || url.pathname !== LIVE_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const device = url.searchParams.get('device');
    const sinceParam = url.searchParams.get('since');
    const since = sinceParam === null ? undefined : Number(sinceParam);
    if (!device || (since !== undefined && !Number.isSafeInteger(since))) {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('device is required; since must be an integer\n');
      return;
    }
    serve(
      feed,
      req,
      res,
      { device, since, follow: url.searchParams.get('follow') !== '0', ...options },
      open,
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    readers: () =>
      [...open].map((r) => ({
        device: r.device,
        bufferedBytes: r.res.writableLength,
        waitingForDrain: r.waitingForDrain,
      })),
    close: async () => {
      for (const r of open) r.res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface ReaderOptions extends LiveServerOptions {
  device: string;
  since: number | undefined;
  follow: boolean;
}

function serve(
  feed: LiveFeed,
  _req: IncomingMessage,
  res: ServerResponse,
  o: ReaderOptions,
  open: Set<ReaderState>,
): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const state: ReaderState = { device: o.device, res, waitingForDrain: false };
  open.add(state);
  readersGauge.add(1);
  // Without `since` the reader starts at the head: live only.
  let cursor: number | undefined = o.since ?? feed.head(o.device);
  let closed = false;
  const highWater = o.highWaterBytes ?? 1024 * 1024;

  const pump = (): void => {
    if (closed || state.waitingForDrain) return;
    const replay = feed.replay(o.device, cursor);
    if (replay.kind === 'gap') {
      gapsSent.add(1, { reason: replay.gap.reason });
      res.write(`${JSON.stringify(replay.gap)}\n`);
      cursor = replay.gap.resumeFrom - 1;
    }
    for (const entry of replay.entries) {
      cursor = entry.seq;
      res.write(entry.line);
      if (res.writableLength > highWater) {
        state.waitingForDrain = true;
        res.once('drain', () => {
          state.waitingForDrain = false;
          pump();
        });
        return;
      }
    }
    if (!o.follow) res.end();
  };

  const unfollow = o.follow ? feed.follow(o.device, () => pump()) : () => undefined;
  const heartbeat = setInterval(() => {
    if (state.waitingForDrain) return;
    const head = feed.head(o.device);
    const hb: WireHeartbeat = {
      type: 'heartbeat',
      device: o.device,
      ...(head === undefined ? {} : { head }),
    };
    res.write(`${JSON.stringify(hb)}\n`);
  }, o.heartbeatMs ?? 10_000);
  heartbeat.unref();
  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unfollow();
    open.delete(state);
    readersGauge.add(-1);
  };
  res.on('close', cleanup);
  pump();
}
