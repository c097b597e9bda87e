/**
 * Copies an XML subtree out of a streamed message as text (the running configuration for a
 * backup), with the namespace bindings it inherited declared on its first element so the copy
 * stands on its own. Bounded: a copy over `maxChars` throws.
 */
import type { SaxesTagNS } from 'saxes';
import { MalformedMessageError } from './errors.js';
import type { ContentSink } from './message-reader.js';

function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"\r\n\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class XmlCopy implements ContentSink {
  private readonly parts: string[] = [];
  private readonly names: string[] = [];
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  open(tag: SaxesTagNS, inScope?: Readonly<Record<string, string>>): void {
    let s = `<${tag.name}`;
    if (inScope) {
      const own = tag.ns ?? {};
      for (const [prefix, uri] of Object.entries(inScope)) {
        if (Object.hasOwn(own, prefix) || prefix === 'xml' || prefix === 'xmlns') continue;
        s += prefix === '' ? ` xmlns="${escapeAttr(uri)}"` : ` xmlns:${prefix}="${escapeAttr(uri)}"`;
      }
    }
    for (const attr of Object.values(tag.attributes)) {
      s += ` ${attr.name}="${escapeAttr(attr.value)}"`;
    }
    this.names.push(tag.name);
    this.add(`${s}>`);
  }

  text(text: string): void {
    this.add(escapeText(text));
  }

  close(): void {
    this.add(`</${this.names.pop() ?? ''}>`);
  }

  toString(): string {
    return this.parts.join('');
  }

  private add(s: string): void {
    this.chars += s.length;
    if (this.chars > this.maxChars)
      throw new MalformedMessageError(`copied XML exceeds ${this.maxChars} characters`);
    this.parts.push(s);
  }
}
