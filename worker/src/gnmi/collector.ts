/**
 * GnmiCollector: one gNMI session to one switch, driven by the device runner through the
 * Collector interface. Subscribes in STREAM, POLL or ONCE mode, turns notifications into
 * samples, and reports how the session failed as a CollectorError reason.
 */
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { parsePath } from '@switchforge/platform/gnmi/paths';
import {
  CollectorError,
  type Collector,
  type CollectorHandlers,
  type Sample,
  type SessionFailureReason,
} from '../device/sample.js';
import {
  GnmiClient,
  isUndecodable,
  type GnmiCredentials,
  type GnmiTls,
  type SubscribeStream,
} from './client.js';
import { gnmiMetrics } from './metrics.js';
import { notificationToSamples } from './notifications.js';
import {
  Encoding,
  SubscriptionListMode,
  SubscriptionMode,
  type SubscribeRequest,
  type SubscriptionList,
} from './proto.js';

export type GnmiSubscriptionMode = 'sample' | 'on_change' | 'target_defined';
export type GnmiEncoding = 'json' | 'json_ietf' | 'proto' | 'ascii' | 'bytes';

export interface GnmiSubscriptionConfig {
  /** Path string, `[origin:]/a/b[k=v]/c`. */
  readonly path: string;
  readonly mode?: GnmiSubscriptionMode;
  /** SAMPLE interval in milliseconds. */
  readonly sampleInterval?: number;
  /** Heartbeat for ON_CHANGE / suppressed SAMPLE, in milliseconds. */
  readonly heartbeatInterval?: number;
}

export interface GnmiCollectorConfig {
  readonly address: string;
  readonly port: number;
  readonly tls: GnmiTls;
  readonly credentials?: GnmiCredentials;
  readonly subscriptions: readonly GnmiSubscriptionConfig[];
  readonly mode?: 'stream' | 'poll' | 'once';
  /** POLL mode: milliseconds between polls. */
  readonly pollInterval?: number;
  readonly encoding?: GnmiEncoding;
  readonly deviceName: string;
  /** Sent as `prefix.target`: picks the device behind a gNMI proxy or a multi-target server. */
  readonly target?: string;
  readonly origin?: string;
  /**
   * No message for this long (after the initial sync) means a stalled target: Timeout.
   * Default: 3x the longest sample interval + 10 s; disabled for on-change only
   * subscriptions without heartbeat.
   */
  readonly stallTimeoutMs?: number;
  /** Time allowed from subscribing to the first sync_response (and per poll). Default 60 s. */
  readonly syncTimeoutMs?: number;
  /** Ask Capabilities first (default true). UNIMPLEMENTED is tolerated: some targets serve Subscribe only. */
  readonly capabilities?: boolean;
  readonly keepaliveMs?: number;
}

const ENCODINGS: Record<GnmiEncoding, Encoding> = {
  json: Encoding.JSON,
  json_ietf: Encoding.JSON_IETF,
  proto: Encoding.PROTO,
  ascii: Encoding.ASCII,
  bytes: Encoding.BYTES,
};

const MODES: Record<GnmiSubscriptionMode, SubscriptionMode> = {
  sample: SubscriptionMode.SAMPLE,
  on_change: SubscriptionMode.ON_CHANGE,
  target_defined: SubscriptionMode.TARGET_DEFINED,
};

const TLS_FAILURE =
  /certificate|ssl|tls|handshake|altnames|self[- ]signed|unable to verify|unknown ca|wrong version number/i;

/**
 * gNMI intervals are uint64 nanoseconds; the Device's durations arrive as (possibly fractional)
 * milliseconds. The CRD admits only whole nanoseconds of at most a day, far inside the 2^53 ns
 * where a double is still exact, so rounding recovers the nanoseconds the manifest named.
 */
export function msToWireNs(ms: number): string {
  return BigInt(Math.round(ms * 1_000_000)).toString();
}

function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}

/** Maps a gRPC failure to the reason the Device's `Connected` condition shows. */
export function failureReason(e: unknown, during: 'connect' | 'subscribe'): SessionFailureReason {
  if (!isServiceError(e)) return 'ProtocolError';
  switch (e.code) {
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
      return 'AuthFailed';
    case Status.UNAVAILABLE:
      return TLS_FAILURE.test(e.details ?? e.message) ? 'TLSError' : 'Unreachable';
    case Status.DEADLINE_EXCEEDED:
      return 'Timeout';
    case Status.INVALID_ARGUMENT:
    case Status.UNIMPLEMENTED:
    case Status.NOT_FOUND:
    case Status.FAILED_PRECONDITION:
      return during === 'subscribe' ? 'SubscriptionRejected' : 'ProtocolError';
    case Status.RESOURCE_EXHAUSTED:
    case Status.CANCELLED:
    case Status.ABORTED:
      // GOAWAY (too_many_pings among them) and resets end up here: the link went, not the session.
      return 'Unreachable';
    default:
      return 'ProtocolError';
  }
}

function toCollectorError(e: unknown, during: 'connect' | 'subscribe'): CollectorError {
  if (e instanceof CollectorError) return e;
  const reason = failureReason(e, during);
  let message = isServiceError(e) ? `${Status[e.code]}: ${tidyDetails(e.details || e.message)}` : String(e);
  if (isServiceError(e) && e.code === Status.RESOURCE_EXHAUSTED && /bandwidth exhausted/i.test(e.details)) {
    // grpc-js's wording for a stream ended by GOAWAY/RST ENHANCE_YOUR_CALM.
    message = `target closed the connection with ENHANCE_YOUR_CALM (too_many_pings or overload): ${message}`;
  }
  return new CollectorError(reason, message, { cause: e });
}

/**
 * grpc-js ends a failed connection's details with "Resolution note: <note>", the note empty
 * for a literal address; an empty note says nothing and is dropped.
 */
export function tidyDetails(details: string): string {
  return details.replace(/\.?\s*Resolution note:\s*$/, '').trim();
}

export class GnmiCollector implements Collector {
  private client: GnmiClient | undefined;

  constructor(private readonly config: GnmiCollectorConfig) {
    if (config.subscriptions.length === 0) throw new Error('gNMI collector needs at least one subscription');
  }

  /** The SubscribeRequest this collector sends (exposed for tests and logs). */
  subscribeRequest(): SubscribeRequest {
    const c = this.config;
    const mode = c.mode ?? 'stream';
    const list: SubscriptionList = {
      mode:
        mode === 'poll'
          ? SubscriptionListMode.POLL
          : mode === 'once'
            ? SubscriptionListMode.ONCE
            : SubscriptionListMode.STREAM,
      encoding: ENCODINGS[c.encoding ?? 'json_ietf'],
      subscription: c.subscriptions.map((s) => ({
        path: parsePath(s.path),
        mode: MODES[s.mode ?? 'target_defined'],
        sample_interval: s.sampleInterval ? msToWireNs(s.sampleInterval) : 0,
        heartbeat_interval: s.heartbeatInterval ? msToWireNs(s.heartbeatInterval) : 0,
      })),
    };
    if (c.target || c.origin) {
      list.prefix = {};
      if (c.target) list.prefix.target = c.target;
      if (c.origin) list.prefix.origin = c.origin;
    }
    return { subscribe: list };
  }

  private stallTimeoutMs(): number {
    if (this.config.stallTimeoutMs !== undefined) return this.config.stallTimeoutMs;
    let longest = 0;
    for (const s of this.config.subscriptions) {
      longest = Math.max(longest, s.sampleInterval ?? 0, s.heartbeatInterval ?? 0);
    }
    return longest > 0 ? 3 * longest + 10_000 : 0;
  }

  private clientFor(): GnmiClient {
    // Kept across runs so grpc-js's keepalive back-off after a too_many_pings GOAWAY sticks.
    this.client ??= new GnmiClient({
      address: this.config.address,
      port: this.config.port,
      tls: this.config.tls,
      ...(this.config.credentials ? { credentials: this.config.credentials } : {}),
      ...(this.config.keepaliveMs ? { keepaliveMs: this.config.keepaliveMs } : {}),
    });
    return this.client;
  }

  /** Drops the channel; the next run opens a new one. */
  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  async run(handlers: CollectorHandlers, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    handlers.onState({ state: 'connecting' });
    const client = this.clientFor();
    let connected = false;
    const markConnected = (capabilities?: readonly string[]) => {
      if (connected) return;
      connected = true;
      handlers.onState(capabilities ? { state: 'connected', capabilities } : { state: 'connected' });
    };

    if (this.config.capabilities !== false) {
      try {
        const caps = await client.capabilities(this.config.syncTimeoutMs ?? 10_000);
        markConnected((caps.supported_models ?? []).map((m) => `${m.name ?? ''}@${m.version ?? ''}`));
      } catch (e) {
        if (!(isServiceError(e) && e.code === Status.UNIMPLEMENTED)) {
          const err = toCollectorError(e, 'connect');
          handlers.onState({ state: 'failed', reason: err.reason, message: err.message });
          throw err;
        }
      }
    }
    if (signal.aborted) return;

    try {
      await this.subscribe(client, handlers, signal, markConnected);
    } catch (e) {
      let err = toCollectorError(e, 'subscribe');
      if (err.reason === 'SubscriptionRejected') {
        // Which subscription the switch refused, beside its gNMI status.
        const paths = this.config.subscriptions.map((s) => s.path).join(', ');
        err = new CollectorError(
          err.reason,
          `the switch rejected the subscription to ${paths}: ${err.message}`,
          {
            cause: e,
          },
        );
      }
      handlers.onState({ state: 'failed', reason: err.reason, message: err.message });
      throw err;
    }
  }

  private subscribe(
    client: GnmiClient,
    handlers: CollectorHandlers,
    signal: AbortSignal,
    markConnected: () => void,
  ): Promise<void> {
    const config = this.config;
    const mode = config.mode ?? 'stream';
    const device = config.deviceName;
    const attrs = { 'switchforge.device': device };
    const stallMs = this.stallTimeoutMs();
    const syncMs = config.syncTimeoutMs ?? 60_000;
    const onMalformed = (e: Error) => {
      gnmiMetrics.malformed.add(1, attrs);
      handlers.onMalformed(e);
    };
    const ctx = { device, onMalformed };

    return new Promise<void>((resolve, reject) => {
      const call: SubscribeStream = client.subscribe();
      let settled = false;
      let synced = false;
      let timer: NodeJS.Timeout | undefined;
      let pollTimer: NodeJS.Timeout | undefined;
      let awaitingPoll = false;
      /** Reading paused for backpressure: no stall timeout while we are the ones not reading. */
      let paused = false;

      const finish = (err?: CollectorError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(pollTimer);
        signal.removeEventListener('abort', onAbort);
        call.cancel();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => finish();
      signal.addEventListener('abort', onAbort, { once: true });

      // One timer watches both the initial sync (and each poll) and stalls in between.
      const arm = () => {
        clearTimeout(timer);
        if (settled || paused) return; // a handler may have aborted the run synchronously
        const waitingForSync = !synced || awaitingPoll;
        const ms = waitingForSync ? syncMs : mode === 'stream' ? stallMs : 0;
        if (ms <= 0) return;
        timer = setTimeout(() => {
          finish(
            new CollectorError(
              'Timeout',
              waitingForSync
                ? `no sync_response within ${ms} ms`
                : `target sent nothing for ${ms} ms (stalled stream)`,
            ),
          );
        }, ms);
      };

      const schedulePoll = () => {
        if (settled) return;
        pollTimer = setTimeout(() => {
          if (settled) return;
          awaitingPoll = true;
          arm();
          call.write({ poll: {} });
        }, config.pollInterval ?? 10_000);
      };

      call.on('data', (msg) => {
        if (settled) return;
        markConnected();
        if (isUndecodable(msg)) {
          onMalformed(msg.undecodable);
          arm();
          return;
        }
        if (msg.update) {
          const samples: Sample[] = notificationToSamples(msg.update, ctx);
          gnmiMetrics.notifications.add(1, attrs);
          if (samples.length > 0) {
            gnmiMetrics.updates.add(samples.length, attrs);
            if (handlers.onSamples(samples) === false && handlers.whenDrained && !paused) {
              // Stop reading: grpc-js stops pulling frames, HTTP/2 flow control holds the target.
              paused = true;
              call.pause();
              void handlers.whenDrained().then(() => {
                paused = false;
                if (settled) return;
                call.resume();
                arm();
              });
            }
          }
        } else if (msg.sync_response) {
          gnmiMetrics.syncs.add(1, attrs);
          synced = true;
          if (mode === 'once') {
            finish();
            return;
          }
          if (mode === 'poll') {
            awaitingPoll = false;
            schedulePoll();
          }
        } else if (msg.error) {
          finish(
            new CollectorError(
              'ProtocolError',
              `target reported error ${msg.error.code ?? ''}: ${msg.error.message ?? ''}`,
            ),
          );
          return;
        }
        arm();
      });
      call.on('error', (e) => finish(toCollectorError(e, 'subscribe')));
      call.on('end', () => {
        if (mode === 'once') finish();
        else finish(new CollectorError('Unreachable', 'target closed the subscription'));
      });

      call.write(this.subscribeRequest());
      arm();
    });
  }
}
