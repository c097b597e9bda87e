/**
 * The NETCONF Collector: one session to one switch, each subscription polled at its own interval
 * (`<get>` or `<get-config>` with a subtree or XPath filter) and, when the server offers RFC 5277
 * notifications, a `<create-subscription>` whose events become samples too.
 *
 * One RPC is in flight per session. Each subscription has at most one request waiting or in
 * flight: a tick that finds its previous request not yet answered is skipped, never queued, so a
 * slow switch is polled less often instead of being buried under a backlog.
 */
import { LATENCY_BUCKETS_SECONDS } from '@switchforge/platform/telemetry/buckets';
import { metrics } from '@opentelemetry/api';
import { CollectorError, type Collector, type CollectorHandlers, type Sample } from '../device/sample.js';
import { MalformedMessageError, RpcError, RpcTimeoutError } from './errors.js';
import { CAP_INTERLEAVE, CAP_NOTIFICATION, CAP_XPATH, hasCapability, type FilterSpec } from './rpc.js';
import { NetconfSession, type NetconfSessionOptions } from './session.js';
import type { ListKeyMap } from './xml-to-samples.js';

export interface NetconfSubscription {
  readonly filter?: FilterSpec | undefined;
  readonly source: 'get' | 'get-config';
  /** Polling interval in milliseconds. */
  readonly intervalMs: number;
}

export interface NetconfCollectorConfig {
  /** `<namespace>/<name>` of the Device. */
  readonly deviceName: string;
  readonly address: string;
  readonly port?: number | undefined;
  readonly username: string;
  readonly password?: string | undefined;
  readonly privateKey?: string | Buffer | undefined;
  readonly passphrase?: string | undefined;
  /** Pinned host key from a Secret (OpenSSH public key line, known_hosts line or base64). */
  readonly hostKey?: string | undefined;
  /** Host-key verification is on unless this says 'disabled'. */
  readonly hostKeyVerification?: 'pinned' | 'disabled' | undefined;
  readonly subscriptions: readonly NetconfSubscription[];
  /** Subscribe to notifications when the server offers them (default true). */
  readonly notifications?: boolean | undefined;
  /** RFC 5277 stream name; the server's default (NETCONF) when absent. */
  readonly notificationStream?: string | undefined;
  readonly listKeys?: ListKeyMap | undefined;
  /** Session tuning (timeouts, keepalive, maximum message size). */
  readonly session?: Partial<
    Pick<
      NetconfSessionOptions,
      | 'connectTimeoutMs'
      | 'helloTimeoutMs'
      | 'rpcTimeoutMs'
      | 'keepaliveIntervalMs'
      | 'keepaliveCountMax'
      | 'maxMessageBytes'
      | 'baseVersions'
    >
  >;
}

/** rpc-error tags that mean the request itself is wrong: asking again will not help. */
const REJECTING_TAGS = new Set([
  'operation-not-supported',
  'invalid-value',
  'unknown-element',
  'unknown-namespace',
  'unknown-attribute',
  'bad-element',
  'bad-attribute',
  'missing-element',
  'missing-attribute',
  'access-denied',
]);

const meter = metrics.getMeter('switchforge-worker');
const rpcCounter = meter.createCounter('switchforge.netconf.rpcs', {
  description: 'NETCONF RPCs sent, by operation and outcome',
});
const skippedTicks = meter.createCounter('switchforge.netconf.ticks.skipped', {
  description: 'Polling ticks skipped because the previous request of the subscription was still unanswered',
});
const samplesCounter = meter.createCounter('switchforge.netconf.samples.received', {
  description: 'Samples decoded from NETCONF replies and notifications',
});
const rpcDuration = meter.createHistogram('switchforge.netconf.rpc.duration', {
  advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
  unit: 's',
  description: 'NETCONF RPC round trip',
});

type Job = () => Promise<void>;

export class NetconfCollector implements Collector {
  private session: NetconfSession | undefined;
  /** Jobs waiting for the session's single RPC slot. */
  private readonly queue: Job[] = [];
  private busy = false;

  constructor(private readonly config: NetconfCollectorConfig) {}

  /** The running configuration of the connected switch (for backups); runs in the RPC slot. */
  getRunningConfig(): Promise<string> {
    const session = this.session;
    if (!session || session.closed) return Promise.reject(new CollectorError('Unreachable', 'not connected'));
    return new Promise<string>((resolve, reject) => {
      this.enqueue(() => session.getRunningConfig().then(resolve, reject));
    });
  }

  run(handlers: CollectorHandlers, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      let finished = false;
      const finish = (error?: CollectorError): void => {
        if (finished) return;
        finished = true;
        for (const t of timers) clearInterval(t);
        this.queue.length = 0;
        signal.removeEventListener('abort', onAbort);
        const session = this.session;
        this.session = undefined;
        if (error) {
          handlers.onState({ state: 'failed', reason: error.reason, message: error.message });
          session?.close(500).catch(() => undefined);
          reject(error);
        } else {
          (session ? session.close() : Promise.resolve()).then(
            () => resolve(),
            () => resolve(),
          );
        }
      };
      const onAbort = (): void => finish();
      signal.addEventListener('abort', onAbort, { once: true });

      handlers.onState({ state: 'connecting' });
      const c = this.config;
      NetconfSession.connect(
        {
          host: c.address,
          port: c.port ?? 830,
          username: c.username,
          password: c.password,
          privateKey: c.privateKey,
          passphrase: c.passphrase,
          hostKey: c.hostKey,
          hostKeyVerification: c.hostKeyVerification,
          device: c.deviceName,
          listKeys: c.listKeys,
          ...c.session,
          onClosed: (error) => finish(error),
          onMalformed: (error) => handlers.onMalformed(error),
        },
        signal,
      ).then(
        (session) => {
          if (finished) return void session.close();
          this.session = session;
          handlers.onState({ state: 'connected', capabilities: session.serverCapabilities });
          this.start(session, handlers, timers, finish).catch((e: unknown) => finish(asCollectorError(e)));
        },
        (e: unknown) => {
          if (signal.aborted) return finish();
          finish(asCollectorError(e));
        },
      );
    });
  }

  private async start(
    session: NetconfSession,
    handlers: CollectorHandlers,
    timers: NodeJS.Timeout[],
    finish: (error?: CollectorError) => void,
  ): Promise<void> {
    const caps = session.serverCapabilities;
    for (const sub of this.config.subscriptions) {
      if (sub.filter?.type === 'xpath' && !hasCapability(caps, CAP_XPATH)) {
        throw new CollectorError(
          'SubscriptionRejected',
          'an XPath filter was configured but the server lacks the :xpath capability',
        );
      }
    }
    const onSamples = (samples: Sample[]): void => {
      samplesCounter.add(samples.length);
      handlers.onSamples(samples);
    };
    // RFC 5277: without :interleave a subscribed session takes no other RPCs, so polling wins.
    const polls = this.config.subscriptions.length > 0;
    const canNotify =
      hasCapability(caps, CAP_NOTIFICATION) && (!polls || hasCapability(caps, CAP_INTERLEAVE));
    if ((this.config.notifications ?? true) && canNotify) {
      try {
        await this.timed('create-subscription', () =>
          session.subscribe(this.config.notificationStream, onSamples),
        );
      } catch (e) {
        if (e instanceof RpcError || e instanceof MalformedMessageError) handlers.onMalformed(e);
        else throw e;
      }
    }

    for (const sub of this.config.subscriptions) {
      let outstanding = false;
      const tick = (): void => {
        if (outstanding) {
          skippedTicks.add(1, { source: sub.source });
          return;
        }
        outstanding = true;
        this.enqueue(async () => {
          try {
            await this.timed(sub.source, () =>
              sub.source === 'get'
                ? session.get(sub.filter, onSamples)
                : session.getConfig('running', sub.filter, onSamples),
            );
          } catch (e) {
            if (e instanceof MalformedMessageError) handlers.onMalformed(e);
            else if (e instanceof RpcError && !REJECTING_TAGS.has(e.errorTag)) handlers.onMalformed(e);
            else finish(asCollectorError(e));
          } finally {
            outstanding = false;
          }
        });
      };
      tick();
      timers.push(setInterval(tick, Math.max(1, sub.intervalMs)));
    }
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) await job();
    } finally {
      this.busy = false;
    }
  }

  private async timed<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await call();
    } catch (e) {
      outcome = e instanceof RpcError ? 'rpc-error' : e instanceof RpcTimeoutError ? 'timeout' : 'failed';
      throw e;
    } finally {
      rpcCounter.add(1, { operation, outcome });
      rpcDuration.record((performance.now() - started) / 1000, { operation });
    }
  }
}

function asCollectorError(e: unknown): CollectorError {
  if (e instanceof CollectorError) return e;
  if (e instanceof RpcTimeoutError) return new CollectorError('Timeout', e.message, { cause: e });
  if (e instanceof RpcError) return new CollectorError('SubscriptionRejected', e.message, { cause: e });
  return new CollectorError('ProtocolError', e instanceof Error ? e.message : String(e), { cause: e });
}
