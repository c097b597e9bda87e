import { metrics } from '@opentelemetry/api';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { BoundedQueue } from './bounded-queue.js';
import { DeviceUpstream, fetchReplay } from './upstream.js';
import type { WireBatch, WireGap, WireSample } from './upstream-protocol.js';
import type { Locator } from './worker-locator.js';

const meter = metrics.getMeter('switchforge-api');
const fanout = meter.createCounter('switchforge.api.live.messages.delivered', {
  description: 'Live messages queued to subscribers (fan-out)',
});
const dropped = meter.createCounter('switchforge.api.live.messages.dropped', {
  description: 'Live messages dropped because a subscriber read too slowly (its queue was full)',
});
const activeSubscriptions = meter.createUpDownCounter('switchforge.api.live.subscriptions', {
  description: 'Active live device subscriptions on this replica',
});

/** What a subscriber receives: a batch (filtered to its path prefix) or a gap it must know of. */
export type LiveEvent =
  | {
      kind: 'batch';
      device: string;
      seq: number;
      committedAt: number;
      samples: readonly WireSample[];
      dropped: number;
    }
  | { kind: 'gap'; device: string; since: number; resumeFrom: number; reason: string; dropped: number };

export interface LiveHubOptions {
  /** Events a subscriber may have waiting; beyond it the oldest are dropped and counted. */
  queueCapacity?: number;
  /** Recent batches kept per device so a subscriber joining with a sequence can catch up locally. */
  ringBatches?: number;
  /** How long an upstream stays open after its last subscriber left (avoids reconnect churn). */
  lingerMs?: number;
}

export interface SubscribeOptions {
  since?: number;
  pathPrefix?: string;
}

interface Subscriber {
  queue: BoundedQueue<LiveEvent>;
  pathPrefix: string | undefined;
  lastSeq: number | undefined;
  /** While catching up from the worker, live batches wait here (bounded by the queue's capacity). */
  pending: WireBatch[] | undefined;
}

interface Channel {
  namespace: string;
  name: string;
  upstream: DeviceUpstream;
  subscribers: Set<Subscriber>;
  ring: WireBatch[];
  linger: NodeJS.Timeout | undefined;
}

/**
 * This replica's side of the live path. For each device with at least one subscriber it holds one
 * upstream stream from the device's worker and fans batches out to its subscribers, each through
 * a bounded queue (a slow subscriber loses its oldest messages, counted and reported to it in the
 * next one, never an unbounded backlog). A subscriber that brings the last sequence it saw
 * resumes from this replica's recent ring or, when that does not reach back far enough, from
 * the worker's ring; what neither holds is reported as a gap.
 */
export class LiveHub {
  private readonly channels = new Map<string, Channel>();
  private readonly capacity: number;
  private readonly ringBatches: number;
  private readonly lingerMs: number;
  private closed = false;

  constructor(
    private readonly locator: Locator,
    options: LiveHubOptions = {},
  ) {
    this.capacity = options.queueCapacity ?? 256;
    this.ringBatches = options.ringBatches ?? 1024;
    this.lingerMs = options.lingerMs ?? 5_000;
  }

  get subscriberCount(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.subscribers.size;
    return n;
  }

  get upstreamCount(): number {
    return this.channels.size;
  }

  subscribe(
    namespace: string,
    name: string,
    options: SubscribeOptions = {},
  ): AsyncIterableIterator<LiveEvent> {
    const key = `${namespace}/${name}`;
    let channel = this.channels.get(key);
    const fresh = !channel;
    if (!channel) channel = this.open(namespace, name, options.since);
    clearTimeout(channel.linger);
    channel.linger = undefined;
    const ch = channel;
    const sub: Subscriber = {
      queue: new BoundedQueue<LiveEvent>(
        this.capacity,
        (n) => dropped.add(n),
        () => this.leave(ch, sub),
      ),
      pathPrefix: options.pathPrefix || undefined,
      lastSeq: options.since,
      pending: undefined,
    };
    channel.subscribers.add(sub);
    activeSubscriptions.add(1);
    if (!fresh && options.since !== undefined) this.catchUp(channel, sub, options.since);
    else if (fresh === false && options.since === undefined) sub.lastSeq = channel.upstream.lastSequence;
    return sub.queue;
  }

  private open(namespace: string, name: string, since: number | undefined): Channel {
    const key = `${namespace}/${name}`;
    const channel: Channel = {
      namespace,
      name,
      subscribers: new Set(),
      ring: [],
      linger: undefined,
      upstream: undefined as unknown as DeviceUpstream,
    };
    channel.upstream = new DeviceUpstream(
      this.locator,
      { namespace, name, ...(since === undefined ? {} : { since }) },
      { onBatch: (b) => this.onBatch(channel, b), onGap: (g) => this.onGap(channel, g) },
    );
    this.channels.set(key, channel);
    return channel;
  }

  /** A late subscriber with a sequence: from the local ring if it reaches back, else from the worker. */
  private catchUp(channel: Channel, sub: Subscriber, since: number): void {
    const ring = channel.ring;
    const head = channel.upstream.lastSequence;
    const i = ring.findIndex((b) => b.seq > since);
    const covered =
      (head !== undefined && since >= head) ||
      (i >= 0 && (ring[i]!.prev === since || (i > 0 && ring[i - 1]!.seq <= since)));
    if (covered) {
      for (const b of i >= 0 ? ring.slice(i) : []) this.deliver(sub, b);
      return;
    }
    const endpoint = channel.upstream.currentEndpoint;
    if (!endpoint) return; // not connected yet: the live stream will bring what the worker sends
    sub.pending = [];
    fetchReplay(endpoint, `${channel.namespace}/${channel.name}`, since)
      .then((replay) => {
        for (const m of replay) {
          if (m.type === 'gap') this.deliverGap(sub, m);
          else this.deliver(sub, m);
        }
      })
      .catch((e: unknown) => {
        log.warn('live: catch-up from worker failed', {
          device: `${channel.namespace}/${channel.name}`,
          error: errorMessage(e),
        });
        this.deliverGap(sub, {
          type: 'gap',
          device: `${channel.namespace}/${channel.name}`,
          since,
          resumeFrom: 0,
          reason: 'catch-up-failed',
        });
      })
      .finally(() => {
        const pending = sub.pending ?? [];
        sub.pending = undefined;
        for (const b of pending) this.deliver(sub, b);
      });
  }

  private onBatch(channel: Channel, batch: WireBatch): void {
    channel.ring.push(batch);
    if (channel.ring.length > this.ringBatches)
      channel.ring.splice(0, channel.ring.length - this.ringBatches);
    // One filtered copy per distinct prefix, shared by every subscriber that asked for it.
    const filtered = new Map<string | undefined, readonly WireSample[]>();
    for (const sub of channel.subscribers) {
      if (sub.pending) {
        if (sub.pending.length >= this.capacity) sub.pending.shift();
        sub.pending.push(batch);
        continue;
      }
      let samples = filtered.get(sub.pathPrefix);
      if (!samples) {
        const prefix = sub.pathPrefix;
        samples =
          prefix === undefined ? batch.samples : batch.samples.filter((s) => s.path.startsWith(prefix));
        filtered.set(sub.pathPrefix, samples);
      }
      this.deliver(sub, batch, samples);
    }
  }

  private onGap(channel: Channel, gap: WireGap): void {
    for (const sub of channel.subscribers) this.deliverGap(sub, gap);
  }

  private deliver(sub: Subscriber, batch: WireBatch, samples?: readonly WireSample[]): void {
    if (sub.lastSeq !== undefined && batch.seq <= sub.lastSeq) return;
    sub.lastSeq = batch.seq;
    const prefix = sub.pathPrefix;
    const s =
      samples ??
      (prefix === undefined ? batch.samples : batch.samples.filter((x) => x.path.startsWith(prefix)));
    if (s.length === 0) return;
    sub.queue.push({
      kind: 'batch',
      device: batch.device,
      seq: batch.seq,
      committedAt: batch.committedAt,
      samples: s,
      dropped: sub.queue.takeDropped(),
    });
    fanout.add(1);
  }

  private deliverGap(sub: Subscriber, gap: WireGap): void {
    sub.queue.push({
      kind: 'gap',
      device: gap.device,
      since: gap.since,
      resumeFrom: gap.resumeFrom,
      reason: gap.reason,
      dropped: sub.queue.takeDropped(),
    });
  }

  private leave(channel: Channel, sub: Subscriber): void {
    if (!channel.subscribers.delete(sub)) return;
    activeSubscriptions.add(-1);
    if (channel.subscribers.size > 0 || this.closed) return;
    channel.linger = setTimeout(() => {
      if (channel.subscribers.size > 0) return;
      this.channels.delete(`${channel.namespace}/${channel.name}`);
      void channel.upstream.stop();
    }, this.lingerMs);
    channel.linger.unref();
  }

  /** Ends every subscription and upstream (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    const stops: Promise<void>[] = [];
    for (const channel of this.channels.values()) {
      clearTimeout(channel.linger);
      for (const sub of [...channel.subscribers]) sub.queue.close();
      stops.push(channel.upstream.stop());
    }
    this.channels.clear();
    await Promise.all(stops);
  }
}
