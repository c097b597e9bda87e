import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson, mergePatchFrom, sameJson } from './merge-patch.js';

/** RFC 7386's MergePatch, to check that a generated patch leads where it should. */
function apply(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = apply(out[k], v);
  }
  return out;
}

describe('a merge patch from one value to another', () => {
  const cases: Array<{ name: string; before: unknown; after: unknown; patch: unknown }> = [
    {
      name: 'a key the new value drops becomes null',
      before: { a: 1, b: 2 },
      after: { a: 1 },
      patch: { b: null },
    },
    {
      name: 'nested keys are dropped too',
      before: { labels: { site: 'ams1', role: 'leaf' } },
      after: { labels: { site: 'ams1' } },
      patch: { labels: { role: null } },
    },
    { name: 'arrays are replaced whole', before: { s: [1, 2] }, after: { s: [2] }, patch: { s: [2] } },
    { name: 'nothing changed: an empty patch', before: { a: { b: 1 } }, after: { a: { b: 1 } }, patch: {} },
    { name: 'a field now undefined is removed', before: { a: 1 }, after: undefined, patch: null },
    { name: 'from nothing, the value itself', before: undefined, after: { a: 1 }, patch: { a: 1 } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const patch = mergePatchFrom(c.before, c.after);
      assert.deepEqual(patch, c.patch);
      assert.deepEqual(apply(c.before, patch) ?? undefined, c.after ?? undefined);
    });
  }
});

test('JSON compared whatever the order of object keys, not of array items', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  assert.ok(sameJson({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }));
  assert.ok(!sameJson({ b: [1, 2] }, { b: [2, 1] }));
});
