/**
 * The canonical form of a running configuration, so that only real changes make new versions:
 * XML is parsed and written again (attributes sorted, whitespace between elements dropped, one
 * element per line, two-space indent); JSON gets a stable key order and two-space indent. Both
 * stay readable and diff line by line. The hash is SHA-256 of the canonical text.
 */
import { createHash } from 'node:crypto';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { InputError } from '@switchforge/platform/errors';

export type ConfigFormat = 'xml' | 'json';

export interface CanonicalConfig {
  readonly content: string;
  readonly format: ConfigFormat;
  /** SHA-256 of `content`, hex. */
  readonly hash: string;
}

/** The device sent something that is not well-formed XML or JSON. */
export class MalformedConfigError extends InputError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'MalformedConfig', options);
  }
}

const ATTRS = ':@';
const shared = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  commentPropName: '#comment',
  cdataPropName: '#cdata',
} as const;
const parser = new XMLParser({
  ...shared,
  // Values stay exactly as sent: "09100" is not 9100, leading spaces of a banner are content.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});
const builder = new XMLBuilder({
  ...shared,
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: true,
});

type XmlNode = Record<string, unknown>;

const isText = (n: XmlNode): boolean => Object.prototype.hasOwnProperty.call(n, '#text');

/** xmlns declarations first, then attributes by name: device attribute order is noise. */
function attrOrder(a: string, b: string): number {
  const ax = a === '@_xmlns' || a.startsWith('@_xmlns:');
  const bx = b === '@_xmlns' || b.startsWith('@_xmlns:');
  if (ax !== bx) return ax ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonicalNodes(nodes: XmlNode[]): XmlNode[] {
  // Whitespace between elements is layout; text of a leaf (no element children) is content.
  const hasElements = nodes.some((n) => !isText(n));
  const out: XmlNode[] = [];
  for (const node of nodes) {
    if (isText(node)) {
      if (hasElements && String(node['#text']).trim() === '') continue;
      out.push(node);
      continue;
    }
    const copy: XmlNode = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === ATTRS) {
        const attrs = value as Record<string, string>;
        copy[ATTRS] = Object.fromEntries(
          Object.keys(attrs)
            .sort(attrOrder)
            .map((k) => [k, attrs[k]]),
        );
      } else {
        copy[key] = Array.isArray(value) ? canonicalNodes(value as XmlNode[]) : value;
      }
    }
    out.push(copy);
  }
  return out;
}

export function canonicalXml(xml: string): string {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new MalformedConfigError(
      `configuration is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`,
    );
  }
  const tree = canonicalNodes(parser.parse(xml) as XmlNode[]);
  return `${(builder.build(tree) as string).trim()}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys); // list order can be meaningful (ordered-by user)
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(obj)
      .sort()
      .map((k) => [k, sortKeys(obj[k])]),
  );
}

/** Accepts JSON text or an already parsed value (what the gNMI conversion produces). */
export function canonicalJson(json: string | unknown): string {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new MalformedConfigError(`configuration is not valid JSON: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

export function contentHash(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export function normalizeConfig(raw: { content: string; format: ConfigFormat }): CanonicalConfig {
  const content = raw.format === 'xml' ? canonicalXml(raw.content) : canonicalJson(raw.content);
  return { content, format: raw.format, hash: contentHash(content) };
}
