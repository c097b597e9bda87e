/**
 * A gNMI client on @grpc/grpc-js: channel security (TLS, mTLS, explicit insecure), per-call
 * username/password metadata (gNMI authentication spec), keepalive that a default gRPC server
 * tolerates, and the Capabilities, Get and Subscribe RPCs.
 */
import * as grpc from '@grpc/grpc-js';
import {
  codecs,
  gnmiService,
  type CapabilityResponse,
  type GetRequest,
  type GetResponse,
  type SubscribeRequest,
  type SubscribeResponse,
} from './proto.js';

export type GnmiTls =
  | { readonly mode: 'insecure' }
  | {
      readonly mode: 'tls';
      /** PEM of the CA that signed the target's certificate; system roots when absent. */
      readonly ca?: string | Buffer;
      /** Client certificate and key (PEM) for mutual TLS. */
      readonly cert?: string | Buffer;
      readonly key?: string | Buffer;
      /** Name to verify the target's certificate against when it differs from the address. */
      readonly serverName?: string;
      /** Accept any server certificate (the Device's explicit `tls.skipVerify`, labs only). */
      readonly skipVerify?: boolean;
    };

export interface GnmiCredentials {
  readonly username: string;
  readonly password: string;
}

export interface GnmiClientOptions {
  readonly address: string;
  readonly port: number;
  readonly tls: GnmiTls;
  readonly credentials?: GnmiCredentials;
  /**
   * HTTP/2 keepalive ping interval. gRPC servers answer pings more frequent than their
   * enforcement policy (grpc-go: 5 min by default) with GOAWAY `too_many_pings`; grpc-js then
   * doubles the interval on its own. The default stays at that 5 min floor; dead peers are
   * caught sooner by the collector's stall timer.
   */
  readonly keepaliveMs?: number;
  readonly maxReceiveBytes?: number;
}

export const DEFAULT_KEEPALIVE_MS = 5 * 60_000;

/** A Subscribe response the decoder could not read: reported, the stream goes on. */
export interface UndecodableResponse {
  readonly undecodable: Error;
}

export type SubscribeStream = grpc.ClientDuplexStream<
  SubscribeRequest,
  SubscribeResponse | UndecodableResponse
>;

export function isUndecodable(r: SubscribeResponse | UndecodableResponse): r is UndecodableResponse {
  return (r as UndecodableResponse).undecodable !== undefined;
}

// Subscribe decodes leniently: one corrupt message must not tear the whole session down.
const clientService = {
  ...gnmiService,
  Subscribe: {
    ...gnmiService.Subscribe,
    responseDeserialize: (bytes: Buffer): SubscribeResponse | UndecodableResponse => {
      try {
        return codecs.SubscribeResponse.decode(bytes);
      } catch (e) {
        return { undecodable: e instanceof Error ? e : new Error(String(e)) };
      }
    },
  },
} satisfies grpc.ServiceDefinition;

const FLOW_CONTROL_WINDOW_BYTES = 4 * 1024 * 1024;

const GnmiClientConstructor = grpc.makeGenericClientConstructor(clientService, 'gNMI');

function channelCredentials(tls: GnmiTls): grpc.ChannelCredentials {
  if (tls.mode === 'insecure') return grpc.credentials.createInsecure();
  const buf = (v: string | Buffer | undefined) =>
    v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v);
  return grpc.credentials.createSsl(
    buf(tls.ca),
    buf(tls.key),
    buf(tls.cert),
    tls.skipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

export class GnmiClient {
  private readonly client: grpc.Client;
  private readonly options: GnmiClientOptions;

  constructor(options: GnmiClientOptions) {
    this.options = options;
    const channelOptions: grpc.ChannelOptions = {
      'grpc.keepalive_time_ms': options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.max_receive_message_length': options.maxReceiveBytes ?? 256 * 1024 * 1024,
      // The device runner owns reconnection; a second layer of retries would hide failures.
      'grpc.enable_retries': 0,
      // One collector, one connection: a shared subchannel would tie devices together.
      'grpc.use_local_subchannel_pool': 1,
      // HTTP/2's default 64 KiB window caps one busy stream at a window per event-loop turn
      // (about 90k updates/s here); a larger one lets the switch run ahead while a batch is
      // decoded. It also bounds what is in flight while the stream is paused for backpressure.
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW_BYTES,
    };
    if (options.tls.mode === 'tls' && options.tls.serverName) {
      channelOptions['grpc.ssl_target_name_override'] = options.tls.serverName;
      channelOptions['grpc.default_authority'] = options.tls.serverName;
    }
    const host = options.address.includes(':') ? `[${options.address}]` : options.address;
    this.client = new GnmiClientConstructor(
      `${host}:${options.port}`,
      channelCredentials(options.tls),
      channelOptions,
    );
  }

  /** `username` / `password` metadata on every call, as gNMI targets expect. */
  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    const c = this.options.credentials;
    if (c) {
      md.set('username', c.username);
      md.set('password', c.password);
    }
    return md;
  }

  capabilities(timeoutMs = 10_000): Promise<CapabilityResponse> {
    return this.unary<object, CapabilityResponse>('Capabilities', {}, timeoutMs);
  }

  get(request: GetRequest, timeoutMs = 30_000): Promise<GetResponse> {
    return this.unary<GetRequest, GetResponse>('Get', request, timeoutMs);
  }

  private unary<Req, Res>(name: 'Capabilities' | 'Get', request: Req, timeoutMs: number): Promise<Res> {
    const def = gnmiService[name];
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Req, Res>(
        def.path,
        // Res is the method's response type; the union of both methods' codecs cannot say so.
        def.requestSerialize as unknown as (r: Req) => Buffer,
        def.responseDeserialize as unknown as (b: Buffer) => Res,
        request,
        this.metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res as Res)),
      );
    });
  }

  /** Opens the bidirectional Subscribe stream; the caller writes the SubscriptionList. */
  subscribe(): SubscribeStream {
    const def = clientService.Subscribe;
    return this.client.makeBidiStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      this.metadata(),
      {},
    );
  }

  close(): void {
    this.client.close();
  }
}
