import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { BoundedQueue } from './bounded-queue.js';
import { activeSubscriptions, messagesDelivered, messagesDropped } from './live-metrics.js';
import { DeviceUpstream, fetchReplay } from './upstream.js';
import type { WireBatch, WireGap, WireSample } from '@switchforge/platform/live-wire';
import type { Locator } from './worker-locator.js';

/** A gap as subscribers see it: the worker's reasons, or this replica failing to catch up. */
export type GapReason = WireGap['reason'] | 'catch-up-failed';
type HubGap = Omit<WireGap, 'reason'> & { reason: GapReason };

/**
 * What a subscriber receives: a batch (filtered to its path prefix) or a gap it must know of.
 * Immutable and shared: every subscriber of a device with the same path prefix gets the same
 * object for a batch, so whoever renders it can do so once (see shared-payloads.ts).
 */
export type LiveEvent =
  | {
      readonly kind: 'batch';
      readonly device: string;
      readonly seq: number;
      readonly committedAt: number;
      readonly samples: readonly WireSample[];
    }
  | {
      readonly kind: 'gap';
      readonly device: string;
      readonly since: number;
      readonly resumeFrom: number;
      readonly reason: GapReason;
    };

/** An event as a queued subscriber reads it: with the messages dropped for it just before. */
export interface LiveMessage {
  event: LiveEvent;
  dropped: number;
}

/**
 * Where the hub hands a subscriber's events, synchronously and in sequence order. A sink that
 * cannot keep up holds at most a bounded number and reports what it dropped in its next message.
 */
export interface LiveSink {
  /** One or more events (several when they arrived together); the array is shared, never changed. */
  deliver(events: readonly LiveEvent[]): void;
  /** The hub is shutting down: end the subscription. */
  close(): void;
}

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
  sink: LiveSink;
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

  /** How many events a subscriber may have waiting (sinks other than the hub's queue honour it too). */
  get queueCapacity(): number {
    return this.capacity;
  }

  get subscriberCount(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.subscribers.size;
    return n;
  }

  get upstreamCount(): number {
    return this.channels.size;
  }

  /** Subscribes through a bounded queue read as an async iterator (returning it unsubscribes). */
  subscribe(
    namespace: string,
    name: string,
    options: SubscribeOptions = {},
  ): AsyncIterableIterator<LiveMessage> {
    let detach: () => void = () => undefined;
    const queue = new BoundedQueue<LiveMessage>(
      this.capacity,
      (n) => messagesDropped.add(n),
      () => detach(),
    );
    detach = this.attach(namespace, name, options, {
      deliver: (events) => {
        for (const event of events) queue.push({ event, dropped: queue.takeDropped() });
      },
      close: () => queue.close(),
    });
    return queue;
  }

  /** Subscribes a sink of the caller's; returns the function that unsubscribes it. */
  attach(namespace: string, name: string, options: SubscribeOptions, sink: LiveSink): () => void {
    if (this.closed) {
      sink.close();
      return () => undefined;
    }
    const key = `${namespace}/${name}`;
    let channel = this.channels.get(key);
    const fresh = !channel;
    if (!channel) channel = this.open(namespace, name, options.since);
    clearTimeout(channel.linger);
    channel.linger = undefined;
    const ch = channel;
    const sub: Subscriber = {
      sink,
      pathPrefix: options.pathPrefix || undefined,
      lastSeq: options.since,
      pending: undefined,
    };
    channel.subscribers.add(sub);
    activeSubscriptions.add(1);
    if (!fresh && options.since !== undefined) this.catchUp(channel, sub, options.since);
    else if (!fresh && options.since === undefined) sub.lastSeq = channel.upstream.lastSequence;
    return () => this.leave(ch, sub);
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
      { onBatches: (b) => this.onBatches(channel, b), onGap: (g) => this.onGap(channel, g) },
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
      if (i >= 0) this.deliver(sub, ring.slice(i));
      return;
    }
    const endpoint = channel.upstream.currentEndpoint;
    if (!endpoint) return; // not connected yet: the live stream will bring what the worker sends
    sub.pending = [];
    fetchReplay(endpoint, `${channel.namespace}/${channel.name}`, since)
      .then((replay) => {
        let batches: WireBatch[] = [];
        for (const m of replay) {
          if (m.type === 'batch') {
            batches.push(m);
            continue;
          }
          this.deliver(sub, batches);
          batches = [];
          this.deliverGap(sub, m);
        }
        this.deliver(sub, batches);
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
        this.deliver(sub, pending);
      });
  }

  private onBatches(channel: Channel, batches: readonly WireBatch[]): void {
    channel.ring.push(...batches);
    if (channel.ring.length > this.ringBatches)
      channel.ring.splice(0, channel.ring.length - this.ringBatches);
    const first = batches[0]!.seq;
    const last = batches.at(-1)!.seq;
    // One list of events per distinct prefix, shared by every subscriber that asked for it, so
    // that sinks can render each event once for all of them.
    const shared = new Map<string | undefined, readonly LiveEvent[]>();
    let delivered = 0;
    for (const sub of channel.subscribers) {
      if (sub.pending) {
        for (const b of batches) {
          if (sub.pending.length >= this.capacity) sub.pending.shift();
          sub.pending.push(b);
        }
        continue;
      }
      let events = shared.get(sub.pathPrefix);
      if (!events) {
        events = batchEvents(batches, sub.pathPrefix);
        shared.set(sub.pathPrefix, events);
      }
      const seen = sub.lastSeq;
      if (seen !== undefined && seen >= first) {
        if (seen >= last) continue;
        events = events.filter((e) => e.kind === 'batch' && e.seq > seen);
      }
      sub.lastSeq = last;
      if (events.length === 0) continue;
      sub.sink.deliver(events);
      delivered += events.length;
    }
    if (delivered > 0) messagesDelivered.add(delivered);
  }

  private onGap(channel: Channel, gap: WireGap): void {
    const events = [gapEvent(gap)];
    for (const sub of channel.subscribers) sub.sink.deliver(events);
  }

  /** Batches for one subscriber (catch-up), in sequence order; those it has seen are skipped. */
  private deliver(sub: Subscriber, batches: readonly WireBatch[]): void {
    const seen = sub.lastSeq;
    const fresh = seen === undefined ? batches : batches.filter((b) => b.seq > seen);
    if (fresh.length === 0) return;
    sub.lastSeq = fresh.at(-1)!.seq;
    const events = batchEvents(fresh, sub.pathPrefix);
    if (events.length === 0) return;
    sub.sink.deliver(events);
    messagesDelivered.add(events.length);
  }

  private deliverGap(sub: Subscriber, gap: HubGap): void {
    sub.sink.deliver([gapEvent(gap)]);
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
      for (const sub of [...channel.subscribers]) {
        channel.subscribers.delete(sub);
        activeSubscriptions.add(-1);
        sub.sink.close();
      }
      stops.push(channel.upstream.stop());
    }
    this.channels.clear();
    await Promise.all(stops);
  }
}

/** The batches as seen through a path prefix; those with nothing under the prefix are left out. */
function batchEvents(batches: readonly WireBatch[], prefix: string | undefined): LiveEvent[] {
  const events: LiveEvent[] = [];
  for (const b of batches) {
    const samples = prefix === undefined ? b.samples : b.samples.filter((s) => s.path.startsWith(prefix));
    if (samples.length > 0)
      events.push({ kind: 'batch', device: b.device, seq: b.seq, committedAt: b.committedAt, samples });
  }
  return events;
}

function gapEvent(gap: HubGap): LiveEvent {
  return {
    kind: 'gap',
    device: gap.device,
    since: gap.since,
    resumeFrom: gap.resumeFrom,
    reason: gap.reason,
  };
}
