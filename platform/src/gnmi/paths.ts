/**
 * gNMI path strings (openconfig/reference gnmi-path-strings.md) to `gnmi.Path` and back.
 *
 *   [origin:]/elem/list[key=value][key2=value2]/leaf
 *
 * Inside a key value `]` and `\` are escaped with `\`; in an element name `/`, `[` and `\`
 * are. `origin:` is recognised only before the first `/`, so IPv6 keys (`[ip=2001:db8::1]`)
 * parse as values.
 *
 * In platform/ beside the messages: the worker's sessions and the gNMI simulator (`simulators/`)
 * both read and write paths with these.
 */
import type { Path, PathElem } from './proto.js';

export class PathSyntaxError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`invalid gNMI path ${JSON.stringify(input)}: ${message}`);
    this.name = 'PathSyntaxError';
  }
}

/** Parses a path string into elems. `origin` and `target` options fill those fields. */
export function parsePath(input: string, options: { origin?: string; target?: string } = {}): Path {
  let rest = input.trim();
  let origin = options.origin ?? '';
  const firstSlash = rest.indexOf('/');
  const colon = rest.indexOf(':');
  const bracket = rest.indexOf('[');
  if (colon > 0 && (firstSlash === -1 || colon < firstSlash) && (bracket === -1 || colon < bracket)) {
    origin = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const path: Path = { elem: parseElems(rest, input) };
  if (origin) path.origin = origin;
  if (options.target) path.target = options.target;
  return path;
}

function parseElems(s: string, input: string): PathElem[] {
  const elems: PathElem[] = [];
  let i = s.startsWith('/') ? 1 : 0;
  while (i < s.length) {
    let name = '';
    while (i < s.length && s[i] !== '/' && s[i] !== '[') {
      if (s[i] === '\\') {
        i++;
        if (i >= s.length) throw new PathSyntaxError(input, 'dangling escape');
      }
      name += s[i];
      i++;
    }
    if (name === '') throw new PathSyntaxError(input, `empty element at offset ${i}`);
    const elem: PathElem = { name };
    while (i < s.length && s[i] === '[') {
      i++;
      let key = '';
      while (i < s.length && s[i] !== '=') {
        if (s[i] === ']' || s[i] === '[') throw new PathSyntaxError(input, `key without value in ${name}`);
        if (s[i] === '\\') i++;
        key += s[i];
        i++;
      }
      if (i >= s.length) throw new PathSyntaxError(input, `unterminated key in ${name}`);
      i++; // '='
      let value = '';
      while (i < s.length && s[i] !== ']') {
        if (s[i] === '\\') {
          i++;
          if (i >= s.length) break;
        }
        value += s[i];
        i++;
      }
      if (i >= s.length) throw new PathSyntaxError(input, `unterminated key value in ${name}[${key}]`);
      i++; // ']'
      if (key === '') throw new PathSyntaxError(input, `empty key name in ${name}`);
      (elem.key ??= {})[key] = value;
    }
    elems.push(elem);
    if (i < s.length) {
      if (s[i] !== '/') throw new PathSyntaxError(input, `unexpected ${JSON.stringify(s[i])} at offset ${i}`);
      i++;
      if (i === s.length) break; // trailing slash
    }
  }
  return elems;
}

const escapeName = (s: string) => s.replace(/[\\/[]/g, (c) => `\\${c}`);
const escapeValue = (s: string) => s.replace(/[\\\]]/g, (c) => `\\${c}`);

/** One elem as text: `name[k=v]`, keys sorted so equal paths print equally. */
export function formatElem(elem: PathElem): string {
  let out = escapeName(elem.name ?? '');
  const key = elem.key;
  if (key) {
    for (const k of Object.keys(key).sort()) out += `[${escapeName(k)}=${escapeValue(key[k] ?? '')}]`;
  }
  return out;
}

/** The path as a string (`origin:/a/b[k=v]`); deprecated `element` strings are used when no elems. */
export function formatPath(path: Path | undefined, options: { withOrigin?: boolean } = {}): string {
  const elems = elemsOf(path);
  const body = '/' + elems.map(formatElem).join('/');
  return options.withOrigin !== false && path?.origin ? `${path.origin}:${body}` : body;
}

/**
 * The elems of a path. Old targets send `element: ["interfaces", "interface[name=eth0]"]`
 * (deprecated since gNMI 0.4); each string is parsed as one elem.
 */
export function elemsOf(path: Path | undefined): PathElem[] {
  if (!path) return [];
  if (path.elem && path.elem.length > 0) return path.elem;
  const element = path.element;
  if (!element || element.length === 0) return [];
  const out: PathElem[] = [];
  for (const e of element) {
    const parsed = parseElems(e, e);
    for (const p of parsed) out.push(p);
  }
  return out;
}

/** Prefix + path as one path: elems concatenated, origin and target from either side. */
export function joinPaths(prefix: Path | undefined, path: Path | undefined): Path {
  const joined: Path = { elem: [...elemsOf(prefix), ...elemsOf(path)] };
  const origin = path?.origin || prefix?.origin;
  const target = prefix?.target || path?.target;
  if (origin) joined.origin = origin;
  if (target) joined.target = target;
  return joined;
}

/** The gnmic-style view of a path: key-less string and the list keys as labels. */
export interface KeylessPath {
  readonly path: string;
  readonly labels: Record<string, string>;
}

/**
 * Appends elems to a key-less path, adding their keys to `labels`. A key name already taken
 * by an outer list (`name` under both network-instance and protocol) is prefixed with its
 * element name (`protocol_name`) so no key is lost.
 */
export function appendKeyless(
  base: string,
  labels: Record<string, string>,
  elems: readonly PathElem[],
): string {
  let out = base;
  for (let i = 0; i < elems.length; i++) {
    const e = elems[i]!;
    out += '/' + (e.name ?? '');
    const key = e.key;
    if (key) {
      for (const k in key) {
        const v = key[k]!;
        if (labels[k] === undefined) labels[k] = v;
        else labels[`${e.name}_${k}`] = v;
      }
    }
  }
  return out;
}

export function keylessPath(path: Path | undefined): KeylessPath {
  const labels: Record<string, string> = {};
  const p = appendKeyless('', labels, elemsOf(path));
  return { path: p === '' ? '/' : p, labels };
}
