import { InputError } from '@switchforge/platform/errors';

/** One requirement of a Kubernetes label selector. */
export type Requirement =
  { op: 'exists' | 'notexists'; key: string } | { op: 'in' | 'notin'; key: string; values: string[] };

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/**
 * Parses the selector syntax kubectl accepts: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x,y)`, `a`, `!a`, joined by commas.
 */
export function parseLabelSelector(selector: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (depth !== 0) throw new InputError(`label selector ${JSON.stringify(selector)}: unbalanced parentheses`);
  parts.push(current);
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => requirement(p, selector));
}

function requirement(part: string, selector: string): Requirement {
  const bad = (why: string) =>
    new InputError(`label selector ${JSON.stringify(selector)}: ${why} in ${JSON.stringify(part)}`);
  const checkKey = (k: string) => {
    if (!KEY.test(k)) throw bad(`invalid key ${JSON.stringify(k)}`);
    return k;
  };
  const checkValue = (v: string) => {
    if (!VALUE.test(v) || v.length > 63) throw bad(`invalid value ${JSON.stringify(v)}`);
    return v;
  };
  const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
  if (set) {
    const values = set[3]!.split(',').map((v) => checkValue(v.trim()));
    return { op: set[2] as 'in' | 'notin', key: checkKey(set[1]!), values };
  }
  const eq = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
  if (eq) {
    return { op: eq[2] === '!=' ? 'notin' : 'in', key: checkKey(eq[1]!), values: [checkValue(eq[3]!)] };
  }
  if (part.startsWith('!')) return { op: 'notexists', key: checkKey(part.slice(1).trim()) };
  return { op: 'exists', key: checkKey(part) };
}

export function matchesLabels(
  requirements: readonly Requirement[],
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
    }
  });
}
