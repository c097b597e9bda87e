/**
 * What every collector (gNMI, NETCONF) produces and every sink consumes: one measured leaf.
 * gnmic-style: `path` is the key-less path (`/interfaces/interface/state/counters/in-octets`),
 * list keys become `labels` (`{ name: "Ethernet1" }`), the timestamp is in nanoseconds.
 */
export type SampleValue = number | string | boolean;

export interface Sample {
  /** Device name (`<namespace>/<name>` of the Device resource). */
  readonly device: string;
  readonly path: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Nanoseconds since the Unix epoch, as the switch reported it. */
  readonly timestampNs: bigint;
  /** `undefined` marks a delete: the leaf (or, for a branch, every leaf below `path`) is gone. */
  readonly value: SampleValue | undefined;
}

/** Why a session is not (or no longer) collecting; becomes the Device's `Connected` reason. */
export type SessionFailureReason =
  | 'Unreachable'
  | 'AuthFailed'
  | 'TLSError'
  | 'HostKeyMismatch'
  | 'SubscriptionRejected'
  | 'ProtocolError'
  | 'Timeout';

export type SessionState =
  | { readonly state: 'connecting' }
  | { readonly state: 'connected'; readonly capabilities?: readonly string[] }
  | { readonly state: 'failed'; readonly reason: SessionFailureReason; readonly message: string };

/**
 * A protocol session to one switch. The device runner (reconnect with backoff, lease, buffer,
 * sinks, SIGTERM) drives any Collector the same way, so protocols share that machinery.
 */
export interface Collector {
  /**
   * Opens the session and collects until `signal` aborts or the session fails. Resolves when
   * stopped cleanly; rejects with a `CollectorError` (carrying a SessionFailureReason) on failure.
   */
  run(handlers: CollectorHandlers, signal: AbortSignal): Promise<void>;
  /**
   * Releases what outlives one `run` (a gRPC channel keeps its learned keepalive between
   * reconnects). Called once when the collection unit is removed or the worker stops.
   */
  close?(): void;
}

export interface CollectorHandlers {
  /**
   * A batch of samples decoded from one protocol message. Must not block. Returning `false` (and
   * only that) says the consumer is over its high-water mark: a collector that can stop reading
   * (a gRPC stream) does so until `whenDrained` resolves; one that cannot ignores it.
   */
  onSamples(samples: readonly Sample[]): unknown;
  /** Resolves when the consumer takes samples again after `onSamples` returned false. */
  whenDrained?(): Promise<void>;
  onState(state: SessionState): void;
  /** A reply that could not be decoded: counted and logged, the session goes on. */
  onMalformed(error: Error): void;
}

export class CollectorError extends Error {
  constructor(
    readonly reason: SessionFailureReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CollectorError';
  }
}
