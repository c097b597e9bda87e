/**
 * A gNMI GetResponse (type CONFIG) as one JSON document (RFC 7951 shape). Devices answer a Get of
 * `/` either with one update at the root holding the whole tree in JSON_IETF, or with many
 * updates, one per leaf or subtree; both are merged into the same document: a path element
 * with keys is an entry of a JSON array of that name, found by its key leaves.
 */
import { InputError } from '@switchforge/platform/errors';
import { elemsOf, formatPath, joinPaths } from '@switchforge/platform/gnmi/paths';
import { int64ToSampleNumber, type GetResponse, type PathElem, type TypedValue } from '../gnmi/proto.js';
import { float32ToNumber } from '../gnmi/values.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(bytes: Uint8Array, where: string): JsonValue {
  try {
    return JSON.parse(utf8.decode(bytes)) as JsonValue;
  } catch (e) {
    throw new InputError(`${where}: value is not valid JSON: ${(e as Error).message}`, 'MalformedConfig', {
      cause: e,
    });
  }
}

/** A TypedValue as JSON, keeping what a configuration needs (no flattening, no sample model). */
function typedValueToJson(tv: TypedValue | undefined, where: string): JsonValue {
  if (!tv) throw new InputError(`${where}: update has no value`, 'MalformedConfig');
  // protobufjs names the set oneof member in `value`; hand-built objects only have their own key.
  const kind =
    tv.value ??
    (Object.keys(tv).find((k) => (tv as Record<string, unknown>)[k] != null) as TypedValue['value']);
  switch (kind) {
    case 'json_ietf_val':
      return parseJson(tv.json_ietf_val!, where);
    case 'json_val':
      return parseJson(tv.json_val!, where);
    case 'string_val':
      return tv.string_val!;
    case 'ascii_val':
      return tv.ascii_val!;
    case 'bool_val':
      return tv.bool_val!;
    case 'int_val':
      return int64ToSampleNumber(tv.int_val, false);
    case 'uint_val':
      return int64ToSampleNumber(tv.uint_val, true);
    case 'double_val':
      return tv.double_val!;
    case 'float_val':
      return float32ToNumber(tv.float_val!);
    case 'decimal_val': {
      const digits = int64ToSampleNumber(tv.decimal_val!.digits, false);
      return Number(digits) / 10 ** (tv.decimal_val!.precision ?? 0);
    }
    case 'leaflist_val':
      return (tv.leaflist_val!.element ?? []).map((e) => typedValueToJson(e, where));
    case 'bytes_val':
      return Buffer.from(tv.bytes_val!).toString('base64');
    case 'proto_bytes':
      return Buffer.from(tv.proto_bytes!).toString('base64');
    case 'any_val':
      return Buffer.from(tv.any_val!.value ?? new Uint8Array()).toString('base64');
    default:
      throw new InputError(`${where}: TypedValue has no value set`, 'MalformedConfig');
  }
}

function deepMerge(into: JsonObject, from: JsonObject): void {
  for (const [k, v] of Object.entries(from)) {
    const existing = into[k];
    if (isObject(existing) && isObject(v)) deepMerge(existing, v);
    else into[k] = v;
  }
}

/** The object for one path element below `parent`, created when missing. */
function child(parent: JsonObject, elem: PathElem, where: string): JsonObject {
  const name = elem.name ?? '';
  const keys = elem.key ?? {};
  if (Object.keys(keys).length === 0) {
    const existing = parent[name];
    if (isObject(existing)) return existing;
    if (existing !== undefined)
      throw new InputError(`${where}: ${name} is both a leaf and a container`, 'MalformedConfig');
    return (parent[name] = {});
  }
  let list = parent[name];
  if (list === undefined) list = parent[name] = [];
  if (!Array.isArray(list))
    throw new InputError(`${where}: ${name} is both a list and a container`, 'MalformedConfig');
  const match = list.find(
    (entry): entry is JsonObject =>
      isObject(entry) && Object.entries(keys).every(([k, v]) => String(entry[k]) === v),
  );
  if (match) return match;
  const entry: JsonObject = { ...keys };
  list.push(entry);
  return entry;
}

export function getResponseToJson(response: GetResponse): JsonValue {
  let root: JsonValue = {};
  for (const notification of response.notification ?? []) {
    for (const update of notification.update ?? []) {
      const path = joinPaths(notification.prefix, update.path);
      const where = formatPath(path);
      const value = typedValueToJson(update.val, where);
      const elems = elemsOf(path).map((e) => ({ ...e, name: e.name ?? '' }));
      if (elems.length === 0) {
        if (isObject(root) && isObject(value)) deepMerge(root, value);
        else root = value;
        continue;
      }
      if (!isObject(root))
        throw new InputError(`${where}: below a root that is not an object`, 'MalformedConfig');
      let node: JsonObject = root;
      for (const e of elems.slice(0, -1)) node = child(node, e, where);
      const last = elems.at(-1)!;
      if (last.key && Object.keys(last.key).length > 0) {
        const entry = child(node, last, where);
        if (isObject(value)) deepMerge(entry, value);
        else throw new InputError(`${where}: a list entry's value is not an object`, 'MalformedConfig');
      } else if (isObject(node[last.name]) && isObject(value)) {
        deepMerge(node[last.name] as JsonObject, value);
      } else {
        node[last.name] = value;
      }
    }
  }
  return root;
}
