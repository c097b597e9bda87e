import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { backoffDelay } from '@switchforge/platform/backoff';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';
import { LIVE_PATH } from '@switchforge/platform/device-worker';
import { wireMessage, type WireBatch, type WireGap, type WireMessage } from '@switchforge/platform/live-wire';
import type { Locator, WorkerEndpoint } from './worker-locator.js';

const meter = metrics.getMeter('switchforge-api');
const upstreamGauge = meter.createUpDownCounter('switchforge.api.live.upstreams', {
  description: 'Open streams from device workers (one per device with subscribers)',
});
const reconnects = meter.createCounter('switchforge.api.live.upstream.reconnects', {
  description: 'Upstream streams reopened (worker restart, hand-over, network error)',
});
const malformed = meter.createCounter('switchforge.api.live.upstream.malformed', {
  description: 'Lines from a worker that were not valid live messages (skipped)',
});

export interface UpstreamHandlers {
  /** Batches in sequence order; several at once when they arrived together (a reader behind). */
  onBatches(batches: readonly WireBatch[]): void;
  onGap(gap: WireGap): void;
}

export interface UpstreamOptions {
  namespace: string;
  name: string;
  /** Resume point for the first connection; later ones resume from the last batch received. */
  since?: number;
  /** How often the lease is re-read while connected, to notice a hand-over. */
  leaseCheckMs?: number;
  /** A stream silent for this long is considered dead (workers send heartbeats). */
  idleTimeoutMs?: number;
}

/**
 * One device's stream from its worker, kept open while wanted: it finds the worker through the
 * device's Lease, reads NDJSON, and on end, error, silence or a change of lease holder reconnects
 * with the last sequence it received, so a worker restart or hand-over loses nothing the new
 * worker (or the ring of the old) still holds; what it cannot replay arrives as a gap marker.
 */
export class DeviceUpstream {
  private since: number | undefined;
  private stopped = false;
  private request: ClientRequest | undefined;
  private endpoint: WorkerEndpoint | undefined;
  private readonly loop: Promise<void>;
  private wake: (() => void) | undefined;
  /** Parsed in this turn of the event loop, not yet handed on. */
  private received: (WireBatch | WireGap)[] = [];

  constructor(
    private readonly locator: Locator,
    private readonly options: UpstreamOptions,
    private readonly handlers: UpstreamHandlers,
  ) {
    this.since = options.since;
    this.loop = this.run();
  }

  get lastSequence(): number | undefined {
    return this.since;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let endpoint: WorkerEndpoint | undefined;
      try {
        endpoint = await this.locator.locate(this.options.namespace, this.options.name);
      } catch (e) {
        log.warn('live: locating worker failed', { device: this.key, error: errorMessage(e) });
      }
      if (endpoint && !this.stopped) {
        this.endpoint = endpoint;
        const started = Date.now();
        const delivered = await this.stream(endpoint).catch((e: unknown) => {
          log.debug('live: upstream ended', { device: this.key, error: errorMessage(e) });
          return false;
        });
        if (delivered || Date.now() - started > 5_000) failures = 0;
        if (!this.stopped) reconnects.add(1);
      }
      if (this.stopped) break;
      // Quick first retry (hand-over), then capped exponential backoff with jitter.
      const delay = backoffDelay(failures++, { baseMs: 100, capMs: 5_000 });
      await Promise.race([sleep(delay), new Promise<void>((r) => (this.wake = r))]);
    }
  }

  private get key(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  /** Reads one connection until it ends; resolves true when at least one message arrived. */
  private stream(endpoint: WorkerEndpoint): Promise<boolean> {
    const device = this.key;
    const query = new URLSearchParams({
      device,
      ...(this.since === undefined ? {} : { since: String(this.since) }),
    });
    return new Promise<boolean>((resolve, reject) => {
      let received = false;
      let idle: NodeJS.Timeout | undefined;
      let leaseTimer: NodeJS.Timeout | undefined;
      const idleMs = this.options.idleTimeoutMs ?? 35_000;
      const finish = (err?: Error) => {
        clearTimeout(idle);
        clearInterval(leaseTimer);
        upstreamGauge.add(-1);
        this.request = undefined;
        if (err && !received) reject(err);
        else resolve(received);
      };
      const req = get(
        `${endpoint.url}${LIVE_PATH}?${query}`,
        { headers: { accept: 'application/x-ndjson' } },
        (res: IncomingMessage) => {
          if (res.statusCode !== 200) {
            res.resume();
            req.destroy(new Error(`worker answered HTTP ${res.statusCode}`));
            return;
          }
          const armIdle = () => {
            clearTimeout(idle);
            idle = setTimeout(() => req.destroy(new Error('worker stream idle')), idleMs);
          };
          armIdle();
          leaseTimer = setInterval(
            () => void this.checkHolder(endpoint, req),
            this.options.leaseCheckMs ?? 5_000,
          );
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            armIdle();
            buffer += chunk;
            let start = 0;
            let nl: number;
            while ((nl = buffer.indexOf('\n', start)) >= 0) {
              const line = buffer.slice(start, nl);
              start = nl + 1;
              if (line.length === 0) continue;
              received = true;
              const msg = this.parseLine(line);
              if (msg) this.arrived(msg);
            }
            buffer = buffer.slice(start);
          });
          res.on('end', () => req.destroy());
        },
      );
      upstreamGauge.add(1);
      this.request = req;
      req.on('error', (e) => void e);
      req.on('close', () => finish(req.destroyed && !received ? new Error('connection closed') : undefined));
    });
  }

  /**
   * Hands messages on once everything that arrived with them is parsed: the HTTP parser emits
   * each chunk (one line) on its own, but a replica that has fallen behind reads many at once,
   * and handing those batches over together lets each subscriber's socket take them in one write.
   */
  private arrived(msg: WireBatch | WireGap): void {
    this.received.push(msg);
    if (this.received.length === 1) process.nextTick(this.dispatch);
  }

  private readonly dispatch = (): void => {
    const messages = this.received;
    this.received = [];
    let batches: WireBatch[] = [];
    for (const m of messages) {
      if (m.type === 'batch') {
        batches.push(m);
        continue;
      }
      if (batches.length > 0) this.handlers.onBatches(batches);
      batches = [];
      this.handlers.onGap(m);
    }
    if (batches.length > 0) this.handlers.onBatches(batches);
  };

  /** A batch that is new to this stream or a gap; undefined for heartbeats, repeats and bad lines. */
  private parseLine(line: string): WireBatch | WireGap | undefined {
    let msg: WireMessage;
    try {
      msg = wireMessage.parse(JSON.parse(line));
    } catch {
      malformed.add(1);
      return undefined;
    }
    if (msg.type === 'batch') {
      if (this.since !== undefined && msg.seq <= this.since) return undefined; // replayed twice across a reconnect
      this.since = msg.seq;
      return msg;
    }
    return msg.type === 'gap' ? msg : undefined;
  }

  /** A new lease holder means the device moved: drop this stream and follow it. */
  private async checkHolder(endpoint: WorkerEndpoint, req: ClientRequest): Promise<void> {
    try {
      const now = await this.locator.locate(this.options.namespace, this.options.name);
      if (now && now.holder !== endpoint.holder) req.destroy(new Error('lease changed hands'));
    } catch {
      // Keep streaming; the next check retries.
    }
  }

  /** Reconnects at once (tests and hand-over hints). */
  reconnect(): void {
    this.request?.destroy(new Error('reconnect requested'));
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.request?.destroy();
    this.wake?.();
    await this.loop;
  }

  get currentEndpoint(): WorkerEndpoint | undefined {
    return this.endpoint;
  }
}

/** Reads a worker's ring after `since` once (follow=0): the catch-up of a late subscriber. */
export async function fetchReplay(
  endpoint: WorkerEndpoint,
  device: string,
  since: number,
): Promise<(WireBatch | WireGap)[]> {
  const query = new URLSearchParams({ device, since: String(since), follow: '0' });
  const res = await fetch(`${endpoint.url}${LIVE_PATH}?${query}`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`worker answered HTTP ${res.status}`);
  const out: (WireBatch | WireGap)[] = [];
  for (const line of (await res.text()).split('\n')) {
    if (!line) continue;
    const parsed = wireMessage.safeParse(JSON.parse(line));
    if (!parsed.success) {
      malformed.add(1);
      continue;
    }
    if (parsed.data.type !== 'heartbeat') out.push(parsed.data);
  }
  return out;
}
