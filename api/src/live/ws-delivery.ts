import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { BoundedQueue } from './bounded-queue.js';
import type { LiveEvent, LiveHub, LiveSink, SubscribeOptions } from './live-hub.js';
import { messagesDropped } from './live-metrics.js';
import { SharedPayloads, operationShareKey, type LiveOperation, type MaskError } from './shared-payloads.js';

/** Builds a subscription's root value for an event (the schema's view of it). */
export type LiveRootValue = (event: LiveEvent, dropped: number) => unknown;

/**
 * What a resolver gets (in its context) when its subscription arrived over graphql-ws: a way to
 * have the hub's events written straight to the client's socket as `next` messages, skipping the
 * per-subscriber execute, serialise and async-iterator chain. The iterator it returns yields
 * nothing; it ends when the subscription does, and returning it unsubscribes.
 */
export interface LiveDeliveryTarget {
  attach(
    hub: LiveHub,
    namespace: string,
    name: string,
    options: SubscribeOptions,
    rootValue: LiveRootValue,
  ): AsyncIterableIterator<never>;
}

export interface WsLiveDeliveryOptions {
  /** Unsent bytes a socket may hold before its subscribers queue (and then drop) instead of writing. */
  highWaterBytes?: number;
  /** Masks unexpected errors in a payload, as the server masks them everywhere else. */
  maskError: MaskError;
}

/**
 * The graphql-ws side of the live path. Every subscriber of a device with an identical operation
 * gets the same serialised payload (SharedPayloads); per subscriber what remains is putting its
 * id around it and one socket write. While a socket holds more than `highWaterBytes` unsent,
 * its subscribers keep events in their bounded queue (the hub's capacity; the oldest dropped,
 * counted and reported in the next message's `dropped`) and write them when it drains.
 */
export class WsLiveDelivery {
  private readonly payloads: SharedPayloads;
  private readonly writers = new WeakMap<WebSocket, SocketWriter>();
  private readonly highWaterBytes: number;

  constructor(options: WsLiveDeliveryOptions) {
    this.payloads = new SharedPayloads(options.maskError);
    this.highWaterBytes = options.highWaterBytes ?? 256 * 1024;
  }

  /**
   * The target for one graphql-ws operation (`id`) on `socket`, whose TCP connection is
   * `connection` (the upgrade request's socket); `query` is the document's text.
   */
  target(
    socket: WebSocket,
    connection: Socket,
    id: string,
    request: Omit<LiveOperation, 'shareKey'> & { query: string },
  ): LiveDeliveryTarget {
    let writer = this.writers.get(socket);
    if (!writer) {
      writer = new SocketWriter(socket, connection, this.highWaterBytes);
      this.writers.set(socket, writer);
    }
    const w = writer;
    return {
      attach: (hub, namespace, name, options, rootValue) => {
        const { query, ...rest } = request;
        const shareKey = operationShareKey(query, rest.document, rest.operationName, rest.variableValues);
        const operation: LiveOperation = { ...rest, shareKey };
        const sink = new WsLiveSink(w, id, operation, this.payloads, rootValue, hub.queueCapacity);
        sink.detach = hub.attach(namespace, name, options, sink);
        return sink;
      },
    };
  }
}

/** One socket's writes, and who waits for it to drain. */
class SocketWriter {
  /** A write is out with a callback that fires when the socket has taken it: hold back until then. */
  congested = false;
  readonly waiting = new Set<WsLiveSink>();
  private readonly flushed: (err?: Error) => void;

  constructor(
    private readonly socket: WebSocket,
    private readonly connection: Socket,
    private readonly highWaterBytes: number,
  ) {
    this.flushed = () => {
      this.congested = false;
      this.connection.cork();
      try {
        for (const sink of this.waiting) {
          this.waiting.delete(sink);
          sink.flush();
          if (this.congested) break;
        }
      } finally {
        this.connection.uncork();
      }
    };
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Frames written until `uncork` leave in one system call (several events for one subscriber). */
  cork(): void {
    this.connection.cork();
  }

  uncork(): void {
    this.connection.uncork();
  }

  write(frame: string): void {
    if (!this.open) return;
    const buffered = this.socket.bufferedAmount;
    // Only a write that may fill the buffer asks to be told when it is through (one callback
    // then, none on the common path where the kernel takes each frame at once).
    if (
      !this.congested &&
      buffered + frame.length * 3 >= this.highWaterBytes &&
      buffered + Buffer.byteLength(frame) >= this.highWaterBytes
    ) {
      this.congested = true;
      this.socket.send(frame, this.flushed);
    } else {
      this.socket.send(frame);
    }
  }
}

/** One graphql-ws subscription fed by the hub: the hub's sink and graphql-ws's (silent) iterator. */
class WsLiveSink implements LiveSink, AsyncIterableIterator<never> {
  detach: () => void = () => undefined;
  private readonly queue: BoundedQueue<LiveEvent>;
  /** `{"id":…,"type":"next","payload":`: what graphql-ws would write before the payload. */
  private readonly framePrefix: string;
  /** A payload that is being rendered asynchronously; later events wait behind it to keep order. */
  private rendering: Promise<void> | undefined;
  private ended = false;
  private end: ((r: IteratorResult<never>) => void) | undefined;

  constructor(
    private readonly writer: SocketWriter,
    id: string,
    private readonly operation: LiveOperation,
    private readonly payloads: SharedPayloads,
    private readonly rootValue: LiveRootValue,
    capacity: number,
  ) {
    this.framePrefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    this.queue = new BoundedQueue<LiveEvent>(capacity, (n) => messagesDropped.add(n));
  }

  deliver(events: readonly LiveEvent[]): void {
    if (events.length === 1) {
      this.deliverOne(events[0]!);
      return;
    }
    this.writer.cork();
    try {
      for (const event of events) this.deliverOne(event);
    } finally {
      this.writer.uncork();
    }
  }

  private deliverOne(event: LiveEvent): void {
    if (this.ended) return;
    if (this.writer.congested || this.rendering || this.queue.size > 0) {
      this.queue.push(event);
      if (!this.rendering) this.writer.waiting.add(this);
      return;
    }
    this.send(event, 0);
  }

  /** Writes what waited, until the socket is congested again or the queue is empty. */
  flush(): void {
    while (!this.ended && !this.rendering && !this.writer.congested) {
      const event = this.queue.shift();
      if (event === undefined) return;
      this.send(event, this.queue.takeDropped());
    }
    if (!this.ended && !this.rendering && this.queue.size > 0) this.writer.waiting.add(this);
  }

  private send(event: LiveEvent, dropped: number): void {
    const payload = this.payloads.render(
      this.operation,
      event,
      () => this.rootValue(event, dropped),
      dropped === 0,
    );
    if (typeof payload === 'string') {
      this.writer.write(`${this.framePrefix}${payload}}`);
      return;
    }
    this.rendering = payload
      .then(
        (p) => void (this.ended || this.writer.write(`${this.framePrefix}${p}}`)),
        (e: unknown) => log.warn('live: rendering an update failed', { error: errorMessage(e) }),
      )
      .finally(() => {
        this.rendering = undefined;
        this.flush();
      });
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.writer.waiting.delete(this);
    while (this.queue.size > 0) this.queue.shift();
    this.end?.({ value: undefined, done: true });
    this.end = undefined;
  }

  next(): Promise<IteratorResult<never>> {
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.end = resolve));
  }

  return(): Promise<IteratorResult<never>> {
    this.detach();
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
