/**
 * The gNMI messages and service, loaded from `proto/` with protobufjs (the library under
 * @grpc/proto-loader). Messages are decoded straight into protobufjs message objects, without
 * proto-loader's `toObject` pass: that pass costs ~35% of decode time at 100k updates/s.
 * 64-bit fields decode to `Long` (exact), converted to bigint/number where they are used.
 */
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';
import type { ServiceDefinition } from '@grpc/grpc-js';

export type Long = protobuf.Long;
/** A 64-bit integer field: decoded as `Long`; to encode, a number, decimal string or Long. */
export type Int64 = Long | number | string;

export interface PathElem {
  name?: string;
  key?: Record<string, string>;
}

export interface Path {
  /** Deprecated (gNMI < 0.4): one string per element, keys inline (`interface[name=eth0]`). */
  element?: string[];
  origin?: string;
  elem?: PathElem[];
  target?: string;
}

export interface Decimal64 {
  digits?: Int64;
  precision?: number;
}

export interface AnyMessage {
  type_url?: string;
  value?: Uint8Array;
}

export type TypedValueKind =
  | 'string_val'
  | 'int_val'
  | 'uint_val'
  | 'bool_val'
  | 'bytes_val'
  | 'float_val'
  | 'double_val'
  | 'decimal_val'
  | 'leaflist_val'
  | 'any_val'
  | 'json_val'
  | 'json_ietf_val'
  | 'ascii_val'
  | 'proto_bytes';

export interface TypedValue {
  string_val?: string;
  int_val?: Int64;
  uint_val?: Int64;
  bool_val?: boolean;
  bytes_val?: Uint8Array;
  float_val?: number;
  double_val?: number;
  decimal_val?: Decimal64;
  leaflist_val?: { element?: TypedValue[] };
  any_val?: AnyMessage;
  json_val?: Uint8Array;
  json_ietf_val?: Uint8Array;
  ascii_val?: string;
  proto_bytes?: Uint8Array;
  /** Set by the decoder (protobufjs oneof getter): which member of the oneof is present. */
  readonly value?: TypedValueKind;
}

export enum Encoding {
  JSON = 0,
  BYTES = 1,
  PROTO = 2,
  ASCII = 3,
  JSON_IETF = 4,
}

export enum SubscriptionMode {
  TARGET_DEFINED = 0,
  ON_CHANGE = 1,
  SAMPLE = 2,
}

export enum SubscriptionListMode {
  STREAM = 0,
  ONCE = 1,
  POLL = 2,
}

export interface Update {
  path?: Path;
  /** Deprecated `Value` (gNMI < 0.3): raw bytes plus their encoding. */
  value?: { value?: Uint8Array; type?: Encoding };
  val?: TypedValue;
  duplicates?: number;
}

export interface Notification {
  timestamp?: Int64;
  prefix?: Path;
  update?: Update[];
  delete?: Path[];
  atomic?: boolean;
}

export interface Subscription {
  path?: Path;
  mode?: SubscriptionMode;
  sample_interval?: Int64;
  suppress_redundant?: boolean;
  heartbeat_interval?: Int64;
}

export interface ModelData {
  name?: string;
  organization?: string;
  version?: string;
}

export interface SubscriptionList {
  prefix?: Path;
  subscription?: Subscription[];
  mode?: SubscriptionListMode;
  allow_aggregation?: boolean;
  use_models?: ModelData[];
  encoding?: Encoding;
  updates_only?: boolean;
}

export interface SubscribeRequest {
  subscribe?: SubscriptionList;
  poll?: Record<string, never>;
  readonly request?: 'subscribe' | 'poll';
}

export interface SubscribeResponse {
  update?: Notification;
  sync_response?: boolean;
  error?: { code?: number; message?: string };
  readonly response?: 'update' | 'sync_response' | 'error';
}

export interface CapabilityRequest {
  extension?: unknown[];
}

export interface CapabilityResponse {
  supported_models?: ModelData[];
  supported_encodings?: Encoding[];
  gNMI_version?: string;
}

export interface GetRequest {
  prefix?: Path;
  path?: Path[];
  type?: number;
  encoding?: Encoding;
  use_models?: ModelData[];
}

export interface GetResponse {
  notification?: Notification[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const protoRoot = path.resolve(here, '../../../proto');
// google/protobuf/*.proto ship with protobufjs; resolve them from its package.
const protobufjsDir = path.dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith('google/protobuf/') ? path.join(protobufjsDir, target) : path.join(protoRoot, target);
  // keepCase: field names stay as on the wire spec (`sync_response`), matching text configs.
  root.loadSync('gnmi/gnmi.proto', { keepCase: true });
  root.resolveAll();
  return root;
}

export const gnmiRoot = loadRoot();

function type<T>(name: string): MessageCodec<T> {
  const t = gnmiRoot.lookupType(name);
  return {
    type: t,
    encode: (message: T) => {
      const bytes = t.encode(message as protobuf.Message<object>).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode: (bytes: Uint8Array) => t.decode(bytes) as unknown as T,
  };
}

export interface MessageCodec<T> {
  readonly type: protobuf.Type;
  encode(message: T): Buffer;
  decode(bytes: Uint8Array): T;
}

export const codecs = {
  Path: type<Path>('gnmi.Path'),
  TypedValue: type<TypedValue>('gnmi.TypedValue'),
  Notification: type<Notification>('gnmi.Notification'),
  SubscribeRequest: type<SubscribeRequest>('gnmi.SubscribeRequest'),
  SubscribeResponse: type<SubscribeResponse>('gnmi.SubscribeResponse'),
  CapabilityRequest: type<CapabilityRequest>('gnmi.CapabilityRequest'),
  CapabilityResponse: type<CapabilityResponse>('gnmi.CapabilityResponse'),
  GetRequest: type<GetRequest>('gnmi.GetRequest'),
  GetResponse: type<GetResponse>('gnmi.GetResponse'),
};

function method<Req, Res>(
  name: string,
  req: MessageCodec<Req>,
  res: MessageCodec<Res>,
  streams: { request: boolean; response: boolean },
) {
  return {
    path: `/gnmi.gNMI/${name}`,
    requestStream: streams.request,
    responseStream: streams.response,
    requestSerialize: req.encode,
    requestDeserialize: req.decode,
    responseSerialize: res.encode,
    responseDeserialize: res.decode,
    originalName: name,
  };
}

/** The `gnmi.gNMI` service, for grpc-js clients (makeGenericClientConstructor) and servers. */
export const gnmiService = {
  Capabilities: method('Capabilities', codecs.CapabilityRequest, codecs.CapabilityResponse, {
    request: false,
    response: false,
  }),
  Get: method('Get', codecs.GetRequest, codecs.GetResponse, { request: false, response: false }),
  Subscribe: method('Subscribe', codecs.SubscribeRequest, codecs.SubscribeResponse, {
    request: true,
    response: true,
  }),
} satisfies ServiceDefinition;

/** Exact signed 64-bit value of an int64 field. */
export function int64ToBigInt(v: Int64 | undefined): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return v.unsigned ? u : BigInt.asIntN(64, u);
}

const SAFE_HIGH = 0x1fffff; // 2^53 = high word 0x200000

/** A 64-bit field as a JS number when exact, else as its decimal string (counters past 2^53). */
export function int64ToSampleNumber(v: Int64 | undefined, unsigned: boolean): number | string {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  const high = unsigned ? v.high >>> 0 : v.high;
  if (high >= -SAFE_HIGH - 1 && high <= SAFE_HIGH) {
    const n = high * 4294967296 + (v.low >>> 0);
    if (Number.isSafeInteger(n)) return n;
  }
  const b = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return (unsigned ? b : BigInt.asIntN(64, b)).toString();
}
