/**
 * gNMI TypedValue to the sample value model (number | string | boolean).
 *
 * - int64/uint64: a number when exact, else the decimal string (counters past 2^53).
 * - float_val (deprecated float32): shortest decimal that round-trips through float32, so 0.1
 *   stays 0.1 and not 0.10000000149011612.
 * - bytes_val of exactly 4 bytes: a float32 in network byte order (big-endian), as the gNMI
 *   specification (section 2.2.3, "floating point values") and the devices that send them do.
 *   Other bytes (and proto_bytes, any_val) become base64 text.
 * - decimal64 (deprecated): digits / 10^precision as a number.
 * - leaflist_val and JSON arrays of scalars: one value, the JSON text of the list.
 * - json_val / json_ietf_val: a scalar is the value; an object is flattened into leaves (see
 *   flattenJson), gnmic-style.
 */
import { int64ToSampleNumber, type TypedValue, type TypedValueKind, type Update } from './proto.js';
import { Encoding } from './proto.js';
import type { SampleValue } from '../device/sample.js';

export class MalformedValueError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedValueError';
  }
}

/** A JSON object (tree) value still to be flattened into leaves below the update's path. */
export interface JsonTree {
  readonly tree: Record<string, unknown>;
}

export type DecodedValue = SampleValue | JsonTree;

export function isJsonTree(v: DecodedValue): v is JsonTree {
  return typeof v === 'object';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Shortest decimal form of a float32 (the number that round-trips through Math.fround). */
export function float32ToNumber(f: number): number {
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 6; p < 9; p++) {
    const n = Number(f.toPrecision(p));
    if (Math.fround(n) === f) return n;
  }
  return Number(f.toPrecision(9));
}

function bytesToBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function parseJson(bytes: Uint8Array, kind: string): DecodedValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    throw new MalformedValueError(`${kind} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return jsonToValue(parsed, kind);
}

function jsonToValue(parsed: unknown, kind: string): DecodedValue {
  switch (typeof parsed) {
    case 'string':
    case 'number':
    case 'boolean':
      return parsed;
    case 'object':
      if (parsed === null) return ''; // RFC 7951 `[null]` is an `empty` leaf; plain null alike
      if (Array.isArray(parsed)) return JSON.stringify(parsed);
      return { tree: parsed as Record<string, unknown> };
    default:
      throw new MalformedValueError(`${kind} holds an unsupported JSON value`);
  }
}

function scalarOf(tv: TypedValue, kind: string): SampleValue {
  const v = decodeTypedValue(tv);
  if (isJsonTree(v)) throw new MalformedValueError(`leaf-list element of ${kind} is not a scalar`);
  return v;
}

/**
 * Which member of the oneof is set. Decoded messages answer through protobufjs's oneof getter
 * (`value`): unset members read as their defaults through the prototype, so presence cannot
 * be tested field by field. Plain objects (built by hand) are scanned for their own key.
 */
function kindOf(tv: TypedValue): TypedValueKind | undefined {
  const k = tv.value;
  if (k !== undefined) return k;
  for (const key of Object.keys(tv)) {
    if ((tv as Record<string, unknown>)[key] != null) return key as TypedValueKind;
  }
  return undefined;
}

/** Decodes one TypedValue; throws MalformedValueError when it cannot be understood. */
export function decodeTypedValue(tv: TypedValue | undefined): DecodedValue {
  if (!tv) throw new MalformedValueError('update has no value');
  switch (kindOf(tv)) {
    case 'uint_val':
      return int64ToSampleNumber(tv.uint_val, true);
    case 'double_val':
      return tv.double_val!;
    case 'string_val':
      return tv.string_val!;
    case 'int_val':
      return int64ToSampleNumber(tv.int_val, false);
    case 'bool_val':
      return tv.bool_val!;
    case 'json_ietf_val':
      return parseJson(tv.json_ietf_val!, 'json_ietf_val');
    case 'json_val':
      return parseJson(tv.json_val!, 'json_val');
    case 'float_val':
      return float32ToNumber(tv.float_val!);
    case 'bytes_val': {
      const b = tv.bytes_val!;
      if (b.byteLength === 4) {
        return float32ToNumber(new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, false));
      }
      return bytesToBase64(b);
    }
    case 'decimal_val': {
      const digits = int64ToSampleNumber(tv.decimal_val!.digits, false);
      const precision = tv.decimal_val!.precision ?? 0;
      if (precision > 18) throw new MalformedValueError(`decimal64 precision ${precision} is out of range`);
      return Number(digits) / 10 ** precision;
    }
    case 'leaflist_val': {
      const elements = tv.leaflist_val!.element ?? [];
      return JSON.stringify(elements.map((e) => scalarOf(e, 'leaflist_val')));
    }
    case 'ascii_val':
      return tv.ascii_val!;
    case 'proto_bytes':
      return bytesToBase64(tv.proto_bytes!);
    case 'any_val':
      return `${tv.any_val!.type_url ?? ''};base64,${bytesToBase64(tv.any_val!.value ?? new Uint8Array())}`;
    case undefined:
      break;
  }
  throw new MalformedValueError('TypedValue has no value set');
}

/** The value of an Update: `val`, or the deprecated `value` (raw bytes plus encoding). */
export function decodeUpdateValue(update: Update): DecodedValue {
  if (update.val) return decodeTypedValue(update.val);
  const legacy = update.value;
  if (legacy?.value) {
    const type = legacy.type ?? Encoding.JSON;
    if (type === Encoding.JSON || type === Encoding.JSON_IETF) return parseJson(legacy.value, 'Value');
    if (type === Encoding.ASCII) return Buffer.from(legacy.value).toString('latin1');
    return bytesToBase64(legacy.value);
  }
  throw new MalformedValueError('update has no value');
}

/** `openconfig-interfaces:interfaces` -> `interfaces` (RFC 7951 module-qualified member names). */
function stripModule(name: string): string {
  const i = name.indexOf(':');
  return i === -1 ? name : name.slice(i + 1);
}

/**
 * Flattens a JSON tree into leaves below `basePath`, calling `emit` for each.
 * - Objects nest: `{"state": {"mtu": 1500}}` -> `<base>/state/mtu`.
 * - Arrays of scalars (leaf-lists) are one leaf holding the JSON text of the list.
 * - Arrays of objects (list entries): each entry is flattened under the same key-less path,
 *   with its position as the label `<list>-index` (JSON carries no schema to say which member
 *   is the key; the key leaf itself is still emitted as a leaf).
 * - Module prefixes on member names are dropped so paths match PROTO-encoded updates.
 */
export function flattenJson(
  tree: Record<string, unknown>,
  basePath: string,
  labels: Readonly<Record<string, string>>,
  emit: (path: string, labels: Readonly<Record<string, string>>, value: SampleValue) => void,
): void {
  for (const rawKey in tree) {
    const child = tree[rawKey];
    const key = stripModule(rawKey);
    const path = `${basePath}/${key}`;
    if (child === null || typeof child !== 'object') {
      if (child === null) emit(path, labels, '');
      else if (typeof child === 'string' || typeof child === 'number' || typeof child === 'boolean')
        emit(path, labels, child);
      continue;
    }
    if (Array.isArray(child)) {
      if (child.length > 0 && child.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c))) {
        for (let i = 0; i < child.length; i++) {
          flattenJson(
            child[i] as Record<string, unknown>,
            path,
            { ...labels, [`${key}-index`]: String(i) },
            emit,
          );
        }
      } else {
        emit(path, labels, JSON.stringify(child));
      }
      continue;
    }
    flattenJson(child as Record<string, unknown>, path, labels, emit);
  }
}
