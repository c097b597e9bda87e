/**
 * JSON merge patches (RFC 7386) that remove as well as set: a status written with a plain merge
 * patch keeps every key the new value leaves out, nested ones included.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The merge patch that turns `before` into `after`: keys `before` has and `after` lacks become
 * null, objects are patched key by key, anything else (arrays too) is replaced. Undefined `after`
 * removes the field (null).
 */
export function mergePatchFrom(before: unknown, after: unknown): Json {
  if (after === undefined) return null;
  if (!isObject(after) || !isObject(before)) return after as Json;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(before)) if (after[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined || sameJson(before[key], value)) continue;
    patch[key] = mergePatchFrom(before[key], value);
  }
  return patch;
}

/** JSON with object keys sorted: the apiserver returns keys sorted, code builds them in any order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/** Equal as JSON, whatever the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
