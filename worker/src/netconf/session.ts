/**
 * One NETCONF session over SSH (RFC 6241, RFC 6242): the `netconf` subsystem of an ssh2 client,
 * the hello exchange (base:1.1 with chunked framing when both sides speak it), RPCs tracked by
 * message-id, `<rpc-error>` as RpcError, notifications, keepalives and `<close-session>`.
 * A failure of the session itself is a CollectorError carrying its SessionFailureReason.
 */
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { CollectorError, type Sample, type SessionFailureReason } from '../device/sample.js';
import { FramingError, MalformedMessageError, RpcError, RpcTimeoutError } from './errors.js';
import { FrameDecoder, encodeMessage, type FrameSink, type Framing } from './framing.js';
import { matchesPinned, parsePinnedHostKeys, preferredHostKeyAlgorithms } from './host-key.js';
import { MessageReader, type ContentSink, type ReplyOutcome, type ReplyTarget } from './message-reader.js';
import {
  CAP_BASE_10,
  CAP_BASE_11,
  CLOSE_SESSION_RPC,
  createSubscriptionRpc,
  getConfigRpc,
  getRpc,
  hasCapability,
  helloXml,
  wrapRpc,
  type Datastore,
  type FilterSpec,
} from './rpc.js';
import { XmlCopy } from './xml-copy.js';
import { SampleBuilder, type ListKeyMap } from './xml-to-samples.js';

export interface NetconfSessionOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: string | undefined;
  readonly privateKey?: string | Buffer | undefined;
  readonly passphrase?: string | undefined;
  /** Pinned host key(s): OpenSSH public key or known_hosts lines, or base64 blobs. */
  readonly hostKey?: string | undefined;
  /** Verification is on unless explicitly disabled. */
  readonly hostKeyVerification?: 'pinned' | 'disabled' | undefined;
  /** Device name stamped on every sample. */
  readonly device: string;
  readonly listKeys?: ListKeyMap | undefined;
  readonly connectTimeoutMs?: number | undefined;
  readonly helloTimeoutMs?: number | undefined;
  readonly rpcTimeoutMs?: number | undefined;
  readonly keepaliveIntervalMs?: number | undefined;
  readonly keepaliveCountMax?: number | undefined;
  readonly maxMessageBytes?: number | undefined;
  /** Our capabilities' base versions (tests use it to force 1.0). */
  readonly baseVersions?: readonly ('1.0' | '1.1')[] | undefined;
  /** The session ended on its own (not through close()). */
  readonly onClosed?: ((error: CollectorError) => void) | undefined;
  /** A message that could not be attributed to any RPC was not decodable. */
  readonly onMalformed?: ((error: Error) => void) | undefined;
}

interface PendingRpc {
  readonly operation: string;
  readonly makeTarget: () => ReplyTarget;
  /** Called when the reply is complete, before the promise settles (flush held samples). */
  readonly onComplete?: () => void;
  readonly resolve: (outcome: ReplyOutcome) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Feeds parser events into a SampleBuilder. */
class SamplesSink implements ContentSink {
  constructor(readonly builder: SampleBuilder) {}
  open(tag: { local: string }): void {
    this.builder.open(tag.local);
  }
  text(text: string): void {
    this.builder.text(text);
  }
  close(): void {
    this.builder.close();
  }
}

function reasonOfSshError(err: Error & { level?: string; code?: string }): SessionFailureReason {
  if (err.level === 'client-authentication') return 'AuthFailed';
  if (err.level === 'client-timeout') return 'Timeout';
  if (err.level === 'client-dns') return 'Unreachable';
  const code = err.code ?? '';
  if (
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE'].includes(
      code,
    )
  ) {
    return 'Unreachable';
  }
  if (code === 'ETIMEDOUT') return 'Timeout';
  return 'ProtocolError';
}

export class NetconfSession {
  readonly serverCapabilities: readonly string[];
  readonly sessionId: string | undefined;
  readonly framing: Framing;

  private readonly conn: Client;
  private readonly channel: ClientChannel;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<string, PendingRpc>();
  private nextId = 1;
  private reader: MessageReader | undefined;
  /** The rest of the current message is discarded (it was already found malformed). */
  private discarding = false;
  private notificationBuilder: SampleBuilder | undefined;
  private onNotificationSamples: ((samples: Sample[]) => void) | undefined;
  private closedError: CollectorError | undefined;
  private closing = false;

  private constructor(
    private readonly options: NetconfSessionOptions,
    init: {
      conn: Client;
      channel: ClientChannel;
      decoder: FrameDecoder;
      capabilities: string[];
      sessionId: string | undefined;
      framing: Framing;
    },
  ) {
    this.conn = init.conn;
    this.channel = init.channel;
    this.decoder = init.decoder;
    this.serverCapabilities = init.capabilities;
    this.sessionId = init.sessionId;
    this.framing = init.framing;
  }

  /** Connects, authenticates, verifies the host key and exchanges hellos. Rejects with CollectorError. */
  static connect(options: NetconfSessionOptions, signal?: AbortSignal): Promise<NetconfSession> {
    return new Promise<NetconfSession>((resolve, reject) => {
      const conn = new Client();
      let hostKeyRejected = false;
      let settled = false;
      let helloTimer: NodeJS.Timeout | undefined;
      const fail = (reason: SessionFailureReason, message: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(helloTimer);
        signal?.removeEventListener('abort', onAbort);
        conn.end();
        conn.destroy();
        reject(new CollectorError(reason, message, cause === undefined ? undefined : { cause }));
      };
      const onAbort = (): void => fail('Unreachable', 'aborted while connecting');
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });

      const verification = options.hostKeyVerification ?? 'pinned';
      const config: ConnectConfig = {
        host: options.host,
        port: options.port,
        username: options.username,
        readyTimeout: options.connectTimeoutMs ?? 10_000,
        keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: options.keepaliveCountMax ?? 3,
      };
      if (options.password !== undefined) config.password = options.password;
      if (options.privateKey !== undefined) config.privateKey = options.privateKey;
      if (options.passphrase !== undefined) config.passphrase = options.passphrase;
      if (verification !== 'disabled') {
        if (!options.hostKey)
          return fail('HostKeyMismatch', 'no pinned host key configured and verification is not disabled');
        let pinned;
        try {
          pinned = parsePinnedHostKeys(options.hostKey);
        } catch (e) {
          return fail('HostKeyMismatch', `pinned host key unusable: ${(e as Error).message}`);
        }
        config.algorithms = {
          serverHostKey: { prepend: preferredHostKeyAlgorithms(pinned), append: [], remove: [] },
        } as ConnectConfig['algorithms'];
        config.hostVerifier = (key: Buffer): boolean => {
          const ok = matchesPinned(pinned, key);
          if (!ok) hostKeyRejected = true;
          return ok;
        };
      }

      conn.on('error', (err: Error & { level?: string }) => {
        if (hostKeyRejected)
          return fail(
            'HostKeyMismatch',
            'the server presented a host key that does not match the pinned key',
            err,
          );
        fail(reasonOfSshError(err), `ssh: ${err.message}`, err);
      });
      conn.on('close', () => fail('Unreachable', 'connection closed during session setup'));
      conn.on('ready', () => {
        conn.subsys('netconf', (err, channel) => {
          if (err) return fail('ProtocolError', `netconf subsystem refused: ${err.message}`, err);
          const decoder = new FrameDecoder({
            maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
          });
          const versions = options.baseVersions ?? ['1.0', '1.1'];
          const ours = versions.map((v) => (v === '1.1' ? CAP_BASE_11 : CAP_BASE_10));
          helloTimer = setTimeout(
            () => fail('Timeout', 'no hello from the server'),
            options.helloTimeoutMs ?? 10_000,
          );
          let hello: { capabilities: string[]; sessionId: string | undefined } | undefined;
          const reader = new MessageReader({
            hello: (capabilities, sessionId) => (hello = { capabilities, sessionId }),
            replyStart: () => undefined,
            replyEnd: () => undefined,
            notificationStart: () => undefined,
            notificationEnd: () => undefined,
          });
          // One listener for the channel's life: frames go to the hello reader until the hello is
          // in, then to the session, even for bytes that came in the same read as the hello's end.
          let session: NetconfSession | undefined;
          const helloEnd = (): void => {
            reader.end();
            if (reader.messageKind !== 'hello' || !hello)
              throw new MalformedMessageError('first message is not a hello');
            const both11 = versions.includes('1.1') && hasCapability(hello.capabilities, CAP_BASE_11);
            if (!both11 && !hasCapability(hello.capabilities, CAP_BASE_10)) {
              throw new MalformedMessageError('the server shares no base version with us');
            }
            const framing: Framing = both11 ? 'chunked' : 'eom';
            decoder.setFraming(framing);
            settled = true;
            clearTimeout(helloTimer);
            signal?.removeEventListener('abort', onAbort);
            conn.removeAllListeners('error');
            conn.removeAllListeners('close');
            channel.removeAllListeners('close');
            session = new NetconfSession(options, {
              conn,
              channel,
              decoder,
              capabilities: hello.capabilities,
              sessionId: hello.sessionId,
              framing,
            });
            session.attach();
            resolve(session);
          };
          const sink = {
            data: (part: Buffer): void => (session ? session.onMessageData(part) : reader.write(part)),
            end: (): void => (session ? session.onMessageEnd() : helloEnd()),
          };
          const onData = (chunk: Buffer): void => {
            if (session) return session.onData(chunk, sink);
            try {
              decoder.push(chunk, sink);
            } catch (e) {
              const established = session as NetconfSession | undefined; // set inside push()
              if (established) return established.onStreamError(e);
              fail('ProtocolError', `hello exchange failed: ${(e as Error).message}`, e);
            }
          };
          channel.on('data', onData);
          channel.on('close', () =>
            fail('ProtocolError', 'the server closed the netconf channel during the hello exchange'),
          );
          channel.write(encodeMessage(helloXml(ours), 'eom'));
        });
      });
      conn.connect(config);
    });
  }

  /** Wires the established connection's ends to this session (data arrives through onData). */
  private attach(): void {
    this.channel.on('close', () => this.onTransportClosed());
    this.conn.on('error', (err: Error & { level?: string }) =>
      this.shutdown(new CollectorError(reasonOfSshError(err), `ssh: ${err.message}`, { cause: err })),
    );
    this.conn.on('close', () => this.onTransportClosed());
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Sends an RPC and resolves with its outcome; rejects with RpcError, RpcTimeoutError, MalformedMessageError or CollectorError. */
  rpc(
    body: string,
    operation: string,
    makeTarget: () => ReplyTarget = () => ({}),
    onComplete?: () => void,
    timeoutMs = this.options.rpcTimeoutMs ?? 60_000,
  ): Promise<ReplyOutcome> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = String(this.nextId++);
    return new Promise<ReplyOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new RpcTimeoutError(operation, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, {
        operation,
        makeTarget,
        ...(onComplete && { onComplete }),
        resolve: (outcome) => {
          const errors = outcome.errors.filter((e) => e.severity === 'error');
          if (errors.length > 0) reject(new RpcError(outcome.errors, operation));
          else resolve(outcome);
        },
        reject,
        timer,
      });
      this.channel.write(encodeMessage(wrapRpc(id, body), this.framing));
    });
  }

  /** `<get>`: each batch of samples goes to onSamples as it is decoded; resolves with the count. */
  get(filter: FilterSpec | undefined, onSamples: (samples: Sample[]) => void): Promise<number> {
    return this.collect(getRpc(filter), 'get', onSamples);
  }

  getConfig(
    source: Datastore,
    filter: FilterSpec | undefined,
    onSamples: (samples: Sample[]) => void,
  ): Promise<number> {
    return this.collect(getConfigRpc(source, filter), 'get-config', onSamples);
  }

  /** The running configuration, as the `<data>` element of the `<get-config>` reply (for backups). */
  async getRunningConfig(): Promise<string> {
    const copy = new XmlCopy(this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    await this.rpc(getConfigRpc('running'), 'get-config', () => ({ content: copy, wantsDataElement: true }));
    const xml = copy.toString();
    return xml.length > 0 ? xml : '<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"></data>';
  }

  /** RFC 5277 `<create-subscription>`; notifications' samples then go to onSamples. */
  async subscribe(stream: string | undefined, onSamples: (samples: Sample[]) => void): Promise<void> {
    this.onNotificationSamples = onSamples;
    try {
      await this.rpc(createSubscriptionRpc(stream), 'create-subscription');
    } catch (e) {
      this.onNotificationSamples = undefined;
      throw e;
    }
  }

  /** `<close-session>`, then the SSH connection ends. Never rejects. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.closedError || this.closing) return;
    this.closing = true;
    try {
      await this.rpc(CLOSE_SESSION_RPC, 'close-session', () => ({}), undefined, timeoutMs);
    } catch {
      // The server may drop the connection before or instead of answering: nothing to do.
    }
    this.shutdown(new CollectorError('Unreachable', 'session closed'));
  }

  private collect(body: string, operation: string, onSamples: (samples: Sample[]) => void): Promise<number> {
    let builder: SampleBuilder | undefined;
    return this.rpc(
      body,
      operation,
      () => {
        builder = new SampleBuilder({
          device: this.options.device,
          timestampNs: nowNs(),
          onBatch: onSamples,
          ...(this.options.listKeys && { listKeys: this.options.listKeys }),
        });
        return { content: new SamplesSink(builder) };
      },
      () => builder?.finish(),
    ).then(() => builder?.count ?? 0);
  }

  private onData(chunk: Buffer, sink: FrameSink): void {
    if (this.closedError) return;
    try {
      this.decoder.push(chunk, sink);
    } catch (e) {
      this.onStreamError(e);
    }
  }

  private onStreamError(e: unknown): void {
    const message = e instanceof FramingError ? `framing: ${e.message}` : `stream: ${(e as Error).message}`;
    this.shutdown(new CollectorError('ProtocolError', message, { cause: e }));
  }

  private newReader(): MessageReader {
    return new MessageReader({
      hello: () => {
        throw new MalformedMessageError('a second hello');
      },
      replyStart: (id) => {
        const p = id === undefined ? undefined : this.pending.get(id);
        return p ? p.makeTarget() : undefined;
      },
      replyEnd: (id, outcome) => {
        const p = id === undefined ? undefined : this.pending.get(id);
        if (!p || id === undefined) {
          this.options.onMalformed?.(
            new MalformedMessageError(`rpc-reply with unknown message-id ${id ?? '(none)'}`),
          );
          return;
        }
        this.pending.delete(id);
        clearTimeout(p.timer);
        try {
          p.onComplete?.();
          p.resolve(outcome);
        } catch (e) {
          p.reject(e as Error);
        }
      },
      notificationStart: (eventTimeNs) => {
        const onSamples = this.onNotificationSamples;
        if (!onSamples) return undefined;
        const builder = new SampleBuilder({
          device: this.options.device,
          timestampNs: eventTimeNs,
          onBatch: onSamples,
          ...(this.options.listKeys && { listKeys: this.options.listKeys }),
        });
        this.notificationBuilder = builder;
        return new SamplesSink(builder);
      },
      notificationEnd: () => {
        this.notificationBuilder?.finish();
        this.notificationBuilder = undefined;
      },
    });
  }

  private onMessageData(part: Buffer): void {
    if (this.discarding) return;
    this.reader ??= this.newReader();
    try {
      this.reader.write(part);
    } catch (e) {
      this.onMalformedMessage(e);
    }
  }

  private onMessageEnd(): void {
    const reader = this.reader;
    this.reader = undefined;
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    if (!reader) return this.onMalformedMessage(new MalformedMessageError('empty message'), undefined);
    try {
      reader.end();
    } catch (e) {
      this.onMalformedMessage(e, reader);
    }
  }

  /**
   * A message that is not well-formed: the RPC it answers (by message-id, or else the oldest one
   * waiting: servers answer in order, RFC 6241 §4.2) fails with MalformedMessageError; the session
   * goes on with the next message.
   */
  private onMalformedMessage(e: unknown, reader: MessageReader | undefined = this.reader): void {
    if (reader === this.reader) this.discarding = true;
    this.notificationBuilder = undefined;
    const error =
      e instanceof MalformedMessageError
        ? e
        : new MalformedMessageError(String((e as Error)?.message ?? e), { cause: e });
    if (reader?.messageKind === 'notification') return this.options.onMalformed?.(error);
    const id =
      reader?.replyMessageId ??
      (reader?.messageKind === 'reply' ? undefined : this.pending.keys().next().value);
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return this.options.onMalformed?.(error);
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.reject(error);
  }

  private onTransportClosed(): void {
    if (this.closedError) return;
    const midReply = this.decoder.midMessage || this.reader !== undefined;
    this.shutdown(
      midReply
        ? new CollectorError('ProtocolError', 'the server closed the session in the middle of a message')
        : new CollectorError('Unreachable', 'the server closed the session'),
    );
  }

  private shutdown(error: CollectorError): void {
    if (this.closedError) return;
    this.closedError = error;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.channel.removeAllListeners('data');
    this.conn.end();
    // ssh2 may emit a late error after end(); keep a listener so it is not an uncaught 'error'.
    this.conn.on('error', () => undefined);
    setImmediate(() => this.conn.destroy());
    if (!this.closing) this.options.onClosed?.(error);
  }
}
