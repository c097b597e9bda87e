/**
 * A simulated gNMI target for N switches (the request's `prefix.target` picks the switch),
 * on @grpc/grpc-js: Capabilities, Get and Subscribe (STREAM with SAMPLE / ON_CHANGE /
 * TARGET_DEFINED, POLL, ONCE, sync_response, updates_only) in JSON, JSON_IETF or PROTO.
 * A `rate` turns streams into a firehose for benchmarks (many updates per Notification).
 * Misbehaviour switches, settable while running, reproduce what field devices do wrong.
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { elemsOf, formatElem, joinPaths, parsePath } from '@switchforge/platform/gnmi/paths';
import {
  codecs,
  Encoding,
  gnmiService,
  int64ToBigInt,
  SubscriptionListMode,
  SubscriptionMode,
  type CapabilityResponse,
  type GetRequest,
  type GetResponse,
  type Notification,
  type Path,
  type PathElem,
  type SubscribeRequest,
  type SubscribeResponse,
  type SubscriptionList,
  type TypedValue,
  type Update,
} from '@switchforge/platform/gnmi/proto';
import { advance, buildDevice, flap, selects, type Leaf, type SimulatedDevice } from './model.js';

export interface Misbehaviour {
  /** End every open stream with UNAVAILABLE now, and new ones right after their initial sync. */
  dropStream: boolean;
  /** Add undecodable updates (bad JSON, empty value) and a corrupt protobuf message to each emission. */
  malformed: boolean;
  /** Answer every RPC with UNAUTHENTICATED, whatever the credentials. */
  refuseCredentials: boolean;
  /** Keep streams open but send nothing. */
  stall: boolean;
  /** Present the untrusted (rogue) certificate instead of the CA-issued one. */
  untrustedCert: boolean;
  /** Send float values as 4-byte big-endian `bytes_val`, as some older devices do. */
  float32Bytes: boolean;
  /** Send paths as deprecated `element` strings instead of `elem`. */
  deprecatedElements: boolean;
  /** Every other notification carries a timestamp one second in the past. */
  outOfOrderTimestamps: boolean;
  /** Each emission also deletes a whole interface branch. */
  branchDeletes: boolean;
  /** Close every connection with GOAWAY ENHANCE_YOUR_CALM "too_many_pings", as a strict server does. */
  tooManyPings: boolean;
}

export interface GnmiSimulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Loopback only by default. */
  readonly host?: string;
  /** Number of switches; named `device-0` ... unless `deviceNames` is given. */
  readonly devices?: number;
  readonly deviceNames?: readonly string[];
  readonly interfaces?: number;
  /** Updates per second per STREAM subscription; 0 (default) follows the sample intervals. */
  readonly rate?: number;
  /** Updates per Notification in firehose mode. */
  readonly batchSize?: number;
  /** How often on-change leaves change (ms). */
  readonly changeIntervalMs?: number;
  /** Omitted: plaintext. `ca` given: clients must present a certificate it issued (mTLS). */
  readonly tls?: {
    readonly cert: Buffer;
    readonly key: Buffer;
    readonly ca?: Buffer;
    /** Served while `untrustedCert` is on. */
    readonly untrusted?: { readonly cert: Buffer; readonly key: Buffer };
  };
  /** When set, RPCs must carry these as `username` / `password` metadata. */
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly misbehaviour?: Partial<Misbehaviour>;
}

export interface GnmiSimulator {
  readonly port: number;
  readonly devices: readonly string[];
  setMisbehaviour(change: Partial<Misbehaviour>): Promise<void>;
  /** Subscribe streams currently open. */
  activeStreams(): number;
  /**
   * The value a leaf holds now, which is the value last sent for it (a leaf moves just before it is
   * sent): `path` is a full path with keys, `/interfaces/interface[name=Ethernet0]/state/counters/in-octets`.
   */
  value(device: string, path: string): number | string | undefined;
  stop(): Promise<void>;
}

const MIN_INTERVAL_MS = 10;
const FIREHOSE_TICK_MS = 20;
const utf8 = new TextEncoder();

/** Responses may be pre-encoded buffers: that is how a corrupt message is put on the wire. */
const serverService = {
  ...gnmiService,
  Subscribe: {
    ...gnmiService.Subscribe,
    responseSerialize: (m: SubscribeResponse | Buffer) =>
      Buffer.isBuffer(m) ? m : codecs.SubscribeResponse.encode(m),
  },
} satisfies grpc.ServiceDefinition;

type SubscribeCall = grpc.ServerDuplexStream<SubscribeRequest, SubscribeResponse | Buffer>;

class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
  toStatus(): Partial<grpc.StatusObject> {
    return { code: this.code, details: this.message };
  }
}

function serverCredentials(options: GnmiSimulatorOptions, untrusted: boolean): grpc.ServerCredentials {
  const tls = options.tls;
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const pair = untrusted && tls.untrusted ? tls.untrusted : tls;
  return grpc.ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ cert_chain: pair.cert, private_key: pair.key }],
    tls.ca !== undefined,
  );
}

export async function startGnmiSimulator(options: GnmiSimulatorOptions = {}): Promise<GnmiSimulator> {
  const names = options.deviceNames ?? Array.from({ length: options.devices ?? 1 }, (_, i) => `device-${i}`);
  const devices = new Map<string, SimulatedDevice>(
    names.map((n, i) => [
      n,
      buildDevice(n, i, options.interfaces !== undefined ? { interfaces: options.interfaces } : {}),
    ]),
  );
  const mis: Misbehaviour = {
    dropStream: false,
    malformed: false,
    refuseCredentials: false,
    stall: false,
    untrustedCert: false,
    float32Bytes: false,
    deprecatedElements: false,
    outOfOrderTimestamps: false,
    branchDeletes: false,
    tooManyPings: false,
    ...options.misbehaviour,
  };
  const streams = new Set<StreamSession>();
  const host = options.host ?? '127.0.0.1';

  const authorize = (metadata: grpc.Metadata): void => {
    if (mis.refuseCredentials) throw new RpcError(grpc.status.UNAUTHENTICATED, 'credentials refused');
    const want = options.credentials;
    if (!want) return;
    const user = metadata.get('username')[0];
    const pass = metadata.get('password')[0];
    if (user !== want.username || pass !== want.password) {
      throw new RpcError(grpc.status.UNAUTHENTICATED, 'invalid username or password');
    }
  };

  const deviceFor = (prefix: Path | undefined | null): SimulatedDevice => {
    const target = prefix?.target || names[0]!;
    const d = devices.get(target);
    if (!d) throw new RpcError(grpc.status.NOT_FOUND, `unknown target ${JSON.stringify(target)}`);
    return d;
  };

  const handlers: grpc.UntypedServiceImplementation = {
    Capabilities: (
      call: grpc.ServerUnaryCall<unknown, CapabilityResponse>,
      cb: grpc.sendUnaryData<CapabilityResponse>,
    ) => {
      try {
        authorize(call.metadata);
        cb(null, {
          supported_models: [
            { name: 'openconfig-interfaces', organization: 'OpenConfig working group', version: '3.0.0' },
            { name: 'openconfig-platform', organization: 'OpenConfig working group', version: '0.24.0' },
            { name: 'openconfig-system', organization: 'OpenConfig working group', version: '2.1.0' },
            { name: 'openconfig-bgp', organization: 'OpenConfig working group', version: '9.4.0' },
          ],
          supported_encodings: [Encoding.JSON, Encoding.PROTO, Encoding.JSON_IETF],
          gNMI_version: '0.10.0',
        });
      } catch (e) {
        cb(e instanceof RpcError ? e.toStatus() : { code: grpc.status.INTERNAL, details: String(e) });
      }
    },
    Get: (call: grpc.ServerUnaryCall<GetRequest, GetResponse>, cb: grpc.sendUnaryData<GetResponse>) => {
      try {
        authorize(call.metadata);
        const req = call.request;
        const device = deviceFor(req.prefix);
        const encoding = checkEncoding(req.encoding ?? Encoding.JSON);
        const selected = selectLeaves(device, req.prefix, req.path ?? [], []);
        const notification: Notification = {
          timestamp: nowNs().toString(),
          prefix: { target: device.name },
          update: selected.map((leaf) => ({
            path: { elem: leaf.elems },
            val: encodeValue(leaf, encoding, false),
          })),
        };
        cb(null, { notification: [notification] });
      } catch (e) {
        cb(e instanceof RpcError ? e.toStatus() : { code: grpc.status.INTERNAL, details: String(e) });
      }
    },
    Subscribe: (call: SubscribeCall) => {
      try {
        authorize(call.metadata);
      } catch (e) {
        call.emit('error', (e as RpcError).toStatus());
        return;
      }
      const session = new StreamSession(call, mis, deviceFor, options);
      streams.add(session);
      call.on('close', () => streams.delete(session));
      session.closed.then(
        () => streams.delete(session),
        () => streams.delete(session),
      );
    },
  };

  const server = new grpc.Server({
    'grpc.max_send_message_length': 256 * 1024 * 1024,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  });
  server.addService(serverService, handlers);
  const bind = (port: number, untrusted: boolean) =>
    new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${port}`, serverCredentials(options, untrusted), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
  const port = await bind(options.port ?? 0, mis.untrustedCert);

  /** grpc-js keeps its HTTP/2 sessions private; the simulator needs them to send GOAWAY. */
  const sessions = (): http2.ServerHttp2Session[] => {
    const internal = (server as unknown as { sessions?: Map<http2.ServerHttp2Session, unknown> }).sessions;
    return internal ? [...internal.keys()] : [];
  };

  const sendTooManyPings = () => {
    for (const s of sessions()) {
      if (s.destroyed) continue;
      s.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('too_many_pings'));
      setTimeout(() => s.destroy(), 50).unref();
    }
  };

  return {
    port,
    devices: names,
    activeStreams: () => streams.size,
    value: (device, path) => {
      const wanted = elemsOf(parsePath(path)).map(formatElem).join('/');
      return devices.get(device)?.leaves.find((l) => l.elems.map(formatElem).join('/') === wanted)?.value;
    },
    async setMisbehaviour(change) {
      const certChanged = change.untrustedCert !== undefined && change.untrustedCert !== mis.untrustedCert;
      Object.assign(mis, change);
      if (change.dropStream) for (const s of streams) s.drop();
      if (change.tooManyPings) sendTooManyPings();
      if (certChanged) {
        // New handshakes get the other certificate; open connections are closed.
        server.unbind(`${host}:${port}`);
        for (const s of sessions()) s.destroy();
        await bind(port, mis.untrustedCert);
      }
    },
    async stop() {
      for (const s of streams) s.stop();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

function checkEncoding(e: Encoding): Encoding {
  if (e === Encoding.JSON || e === Encoding.JSON_IETF || e === Encoding.PROTO) return e;
  throw new RpcError(grpc.status.UNIMPLEMENTED, `encoding ${Encoding[e] ?? e} is not supported`);
}

function selectLeaves(
  device: SimulatedDevice,
  prefix: Path | undefined | null,
  paths: readonly Path[],
  into: Leaf[],
): Leaf[] {
  for (const p of paths.length > 0 ? paths : [{}]) {
    const sub = elemsOf(joinPaths(prefix ?? undefined, p));
    for (const e of sub) {
      if (!e.name) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'path element without a name');
    }
    for (const leaf of device.leaves) if (selects(sub, leaf.elems) && !into.includes(leaf)) into.push(leaf);
  }
  return into;
}

function encodeValue(leaf: Leaf, encoding: Encoding, float32Bytes: boolean): TypedValue {
  const v = leaf.value;
  if (encoding === Encoding.PROTO) {
    if (typeof v === 'string') return { string_val: v };
    if (leaf.kind === 'float') {
      if (float32Bytes) {
        const b = Buffer.alloc(4);
        b.writeFloatBE(v, 0);
        return { bytes_val: b };
      }
      return { double_val: v };
    }
    return { uint_val: v };
  }
  // RFC 7951: 64-bit integers travel as strings in JSON_IETF.
  const text =
    encoding === Encoding.JSON_IETF && leaf.kind !== 'float' && typeof v === 'number'
      ? `"${v}"`
      : JSON.stringify(v);
  return encoding === Encoding.JSON_IETF
    ? { json_ietf_val: utf8.encode(text) }
    : { json_val: utf8.encode(text) };
}

interface ActiveSubscription {
  readonly leaves: Leaf[];
  readonly mode: SubscriptionMode;
  readonly intervalMs: number;
}

/** One Subscribe RPC: its subscriptions, timers and misbehaviour. */
class StreamSession {
  private timers: NodeJS.Timeout[] = [];
  private list: SubscriptionList | undefined;
  private device: SimulatedDevice | undefined;
  private subs: ActiveSubscription[] = [];
  private encoding = Encoding.JSON;
  private ended = false;
  private notificationCount = 0;
  private deleteCursor = 0;
  private firehoseCursor = 0;
  private blocked = false;
  private resolveClosed!: () => void;
  readonly closed = new Promise<void>((r) => (this.resolveClosed = r));

  constructor(
    private readonly call: SubscribeCall,
    private readonly mis: Misbehaviour,
    private readonly deviceFor: (prefix: Path | undefined | null) => SimulatedDevice,
    private readonly options: GnmiSimulatorOptions,
  ) {
    call.on('data', (req: SubscribeRequest) => this.onRequest(req));
    call.on('end', () => this.stop());
    call.on('error', () => this.stop());
    call.on('cancelled', () => this.stop());
    call.on('drain', () => (this.blocked = false));
  }

  private fail(e: unknown): void {
    if (this.ended) return;
    this.clearTimers();
    this.ended = true;
    this.call.emit(
      'error',
      e instanceof RpcError ? e.toStatus() : { code: grpc.status.INTERNAL, details: String(e) },
    );
    this.resolveClosed();
  }

  private onRequest(req: SubscribeRequest): void {
    if (this.ended) return;
    try {
      if (req.subscribe) {
        if (this.list) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'subscription list already received');
        this.start(req.subscribe);
      } else if (req.poll) {
        if (this.list?.mode !== SubscriptionListMode.POLL) {
          throw new RpcError(grpc.status.INVALID_ARGUMENT, 'poll on a subscription that is not in POLL mode');
        }
        this.sendAll();
        this.send({ sync_response: true });
      } else {
        throw new RpcError(grpc.status.INVALID_ARGUMENT, 'empty SubscribeRequest');
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private start(list: SubscriptionList): void {
    this.list = list;
    this.device = this.deviceFor(list.prefix);
    this.encoding = checkEncoding(list.encoding ?? Encoding.JSON);
    const subscriptions = list.subscription ?? [];
    if (subscriptions.length === 0) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'no subscriptions');
    for (const s of subscriptions) {
      const leaves = selectLeaves(this.device, list.prefix, [s.path ?? {}], []);
      const mode = (s.mode ?? SubscriptionMode.TARGET_DEFINED) as SubscriptionMode;
      const ns = int64ToBigInt(s.sample_interval);
      this.subs.push({
        leaves,
        mode,
        intervalMs: Math.max(MIN_INTERVAL_MS, Number(ns / 1_000_000n) || 1000),
      });
    }
    const mode = list.mode ?? SubscriptionListMode.STREAM;
    if (!list.updates_only) this.sendAll();
    this.send({ sync_response: true });
    if (mode === SubscriptionListMode.ONCE) {
      this.finish();
      return;
    }
    if (mode === SubscriptionListMode.POLL) return;
    if (this.mis.dropStream) {
      this.drop();
      return;
    }
    this.startStreaming();
  }

  private startStreaming(): void {
    const rate = this.options.rate ?? 0;
    if (rate > 0) {
      const all = this.allLeaves();
      const perTick = Math.max(1, Math.round((rate * FIREHOSE_TICK_MS) / 1000));
      this.every(FIREHOSE_TICK_MS, () => {
        if (this.blocked) return; // the client is behind: do not queue without bound
        const batch: Leaf[] = new Array(perTick);
        for (let i = 0; i < perTick; i++) batch[i] = all[this.firehoseCursor++ % all.length]!;
        this.emit(batch);
      });
      return;
    }
    for (const s of this.subs) {
      if (s.mode === SubscriptionMode.ON_CHANGE) {
        const states = s.leaves.filter((l) => l.kind === 'state');
        if (states.length === 0) continue;
        let i = 0;
        this.every(this.options.changeIntervalMs ?? 1000, () => {
          const leaf = states[i++ % states.length]!;
          flap(leaf);
          this.emit([leaf]);
        });
      } else {
        this.every(s.intervalMs, () => this.emit(s.leaves));
      }
    }
  }

  private allLeaves(): Leaf[] {
    const all: Leaf[] = [];
    for (const s of this.subs) for (const l of s.leaves) if (!all.includes(l)) all.push(l);
    return all;
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(
      setInterval(() => {
        if (this.ended || this.mis.stall) return;
        try {
          fn();
        } catch (e) {
          this.fail(e);
        }
      }, ms),
    );
  }

  private sendAll(): void {
    this.emit(this.allLeaves());
  }

  private path(elems: PathElem[]): Path {
    return this.mis.deprecatedElements ? { element: elems.map(formatElem) } : { elem: elems };
  }

  /** Sends the leaves' current values, batched into Notifications. */
  private emit(leaves: readonly Leaf[]): void {
    if (this.ended || !this.device) return;
    const batchSize = this.options.batchSize ?? 1000;
    const float32 = this.mis.float32Bytes;
    for (let start = 0; start < leaves.length || (start === 0 && leaves.length === 0); start += batchSize) {
      const end = Math.min(leaves.length, start + batchSize);
      const update: Update[] = new Array(end - start);
      for (let i = start; i < end; i++) {
        const leaf = leaves[i]!;
        advance(leaf);
        update[i - start] = { path: this.path(leaf.elems), val: encodeValue(leaf, this.encoding, float32) };
      }
      let ts = nowNs();
      if (this.mis.outOfOrderTimestamps && this.notificationCount % 2 === 1) ts -= 1_000_000_000n;
      this.notificationCount++;
      const notification: Notification = {
        timestamp: ts.toString(),
        prefix: { target: this.device.name },
        update,
      };
      if (this.mis.malformed) {
        update.push(
          {
            path: this.path([{ name: 'system' }, { name: 'state' }, { name: 'motd-banner' }]),
            val: { json_ietf_val: utf8.encode('{"broken":') },
          },
          { path: this.path([{ name: 'system' }, { name: 'state' }, { name: 'hostname' }]), val: {} },
        );
      }
      if (this.mis.branchDeletes) {
        notification.delete = [
          this.path([
            { name: 'interfaces' },
            { name: 'interface', key: { name: `Ethernet${this.deleteCursor++ % 8}` } },
          ]),
        ];
      }
      this.send({ update: notification });
      if (this.mis.malformed) this.send(Buffer.from([0x0a, 0x05, 0x01])); // truncated field: undecodable
      if (leaves.length === 0) break;
    }
  }

  private send(msg: SubscribeResponse | Buffer): void {
    if (this.ended) return;
    if (!this.call.write(msg)) this.blocked = true;
  }

  /** ONCE mode: the RPC ends after the sync. */
  private finish(): void {
    this.clearTimers();
    this.ended = true;
    this.call.end();
    this.resolveClosed();
  }

  drop(): void {
    this.fail(new RpcError(grpc.status.UNAVAILABLE, 'stream dropped by the target'));
  }

  stop(): void {
    if (this.ended) return;
    this.clearTimers();
    this.ended = true;
    try {
      this.call.end();
    } catch {
      // already closed by the peer
    }
    this.resolveClosed();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
