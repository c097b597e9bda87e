/**
 * NETCONF XML content (a `<get>` reply's `<data>`, a notification's event) becomes the same rows
 * as gNMI: the key-less path of each leaf, the list keys on the way as labels, a typed value.
 *
 * XML carries no schema, so two things are inferred:
 * - which child leaves of a list entry are its keys: from a small map of list name → key leaf
 *   names (defaults cover common OpenConfig/IETF lists; callers add their own). Elements not in
 *   the map are containers: their leaves become values without labels.
 * - a leaf's type: `true`/`false` are booleans, decimal numerals are numbers (integers beyond
 *   2^53 stay strings, so 64-bit counters keep every digit), everything else is a string.
 *
 * The builder is driven by parser events (open/text/close) so a large reply streams through in
 * batches; RFC 7950 §7.8.5 puts keys first, and entries whose keys come late are held only until
 * their keys arrive (or the entry closes).
 */
import { SaxesParser } from 'saxes';
import type { Sample, SampleValue } from '../device/sample.js';
import { MalformedMessageError } from './errors.js';

/** List element local name → the local names of its key leaves. */
export type ListKeyMap = Readonly<Record<string, readonly string[]>>;

export const DEFAULT_LIST_KEYS: ListKeyMap = {
  interface: ['name'],
  subinterface: ['index'],
  neighbor: ['neighbor-address'],
  'peer-group': ['peer-group-name'],
  'afi-safi': ['afi-safi-name'],
  'network-instance': ['name'],
  protocol: ['identifier', 'name'],
  address: ['ip'],
  vlan: ['vlan-id'],
  component: ['name'],
  user: ['name'],
  session: ['session-id'],
  schema: ['identifier', 'version', 'format'],
  stream: ['name'],
  module: ['name', 'revision'],
  server: ['address'],
};

export interface SampleBuilderOptions {
  readonly device: string;
  readonly timestampNs: bigint;
  readonly onBatch: (samples: Sample[]) => void;
  readonly listKeys?: ListKeyMap;
  /** Samples per onBatch call; the last batch of a message may be smaller. */
  readonly batchSize?: number;
}

interface Draft {
  readonly path: string;
  readonly value: SampleValue;
  /** Innermost list entry above the leaf (its labels are resolved when it is complete). */
  readonly entry: Frame | undefined;
}

interface Frame {
  readonly name: string;
  readonly path: string;
  readonly parentEntry: Frame | undefined;
  text: string;
  hasChild: boolean;
  /** Set on list entries: the key leaves still to come. */
  keysMissing: string[] | undefined;
  labels: Record<string, string> | undefined;
  /** Labels of this entry and every entry above it, once all are complete. */
  resolved: Readonly<Record<string, string>> | undefined;
  pending: Draft[] | undefined;
  closed: boolean;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const NUMERAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?(?:0|[1-9]\d*)$/;

/** A leaf's text as a typed value (see the module comment for the rules). */
export function typedValue(raw: string): SampleValue {
  const t =
    raw.length > 0 && (raw.charCodeAt(0) <= 0x20 || raw.charCodeAt(raw.length - 1) <= 0x20)
      ? raw.trim()
      : raw;
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t.length === 0 || t.length > 40 || !NUMERAL.test(t)) return raw;
  const n = Number(t);
  if (!Number.isFinite(n)) return raw;
  if (INTEGER.test(t) && !Number.isSafeInteger(n)) return t;
  return n;
}

export class SampleBuilder {
  private readonly stack: Frame[] = [];
  private batch: Sample[] = [];
  private readonly listKeys: ListKeyMap;
  private readonly batchSize: number;
  private emitted = 0;

  constructor(private readonly options: SampleBuilderOptions) {
    this.listKeys = options.listKeys ?? DEFAULT_LIST_KEYS;
    this.batchSize = options.batchSize ?? 1000;
  }

  /** Samples handed on so far. */
  get count(): number {
    return this.emitted + this.batch.length;
  }

  open(localName: string): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent) {
      parent.hasChild = true;
      parent.text = '';
    }
    const keys = Object.hasOwn(this.listKeys, localName) ? this.listKeys[localName] : undefined;
    const parentEntry = parent ? (parent.keysMissing ? parent : parent.parentEntry) : undefined;
    this.stack.push({
      name: localName,
      path: `${parent ? parent.path : ''}/${localName}`,
      parentEntry,
      text: '',
      hasChild: false,
      keysMissing: keys ? [...keys] : undefined,
      labels: keys ? {} : undefined,
      resolved: undefined,
      pending: undefined,
      closed: false,
    });
  }

  text(text: string): void {
    const top = this.stack[this.stack.length - 1];
    // Text beside child elements is layout; only a leaf's text is a value.
    if (top && !top.hasChild) top.text += text;
  }

  close(): void {
    const frame = this.stack.pop();
    if (!frame) return;
    const parent = this.stack[this.stack.length - 1];
    if (!frame.hasChild) {
      if (parent?.keysMissing) this.takeKey(parent, frame.name, frame.text);
      this.route({ path: frame.path, value: typedValue(frame.text), entry: frame.parentEntry });
    }
    if (frame.keysMissing) {
      frame.closed = true;
      this.flushEntry(frame);
    }
  }

  /** Hands on everything still held (entries left open by a truncated message included). */
  finish(): void {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const frame = this.stack[i] as Frame;
      if (frame.keysMissing) {
        frame.closed = true;
        this.flushEntry(frame);
      }
    }
    this.stack.length = 0;
    this.flushBatch();
  }

  private takeKey(entry: Frame, name: string, value: string): void {
    const missing = entry.keysMissing as string[];
    const at = missing.indexOf(name);
    if (at < 0) return;
    missing.splice(at, 1);
    const labels = entry.labels as Record<string, string>;
    labels[name] = value;
    if (missing.length === 0) this.flushEntry(entry);
  }

  private complete(entry: Frame): boolean {
    return entry.closed || (entry.keysMissing as string[]).length === 0;
  }

  private route(draft: Draft): void {
    let blocker: Frame | undefined;
    for (let e = draft.entry; e; e = e.parentEntry) if (!this.complete(e)) blocker = e;
    if (blocker) {
      (blocker.pending ??= []).push(draft);
      return;
    }
    const labels = draft.entry ? this.resolve(draft.entry) : NO_LABELS;
    this.batch.push({
      device: this.options.device,
      path: draft.path,
      labels,
      timestampNs: this.options.timestampNs,
      value: draft.value,
    });
    if (this.batch.length >= this.batchSize) this.flushBatch();
  }

  /** Labels of an entry and its ancestors; call only when all of them are complete. */
  private resolve(entry: Frame): Readonly<Record<string, string>> {
    if (entry.resolved) return entry.resolved;
    const outer = entry.parentEntry ? this.resolve(entry.parentEntry) : NO_LABELS;
    const own = entry.labels ?? {};
    let merged: Record<string, string> = { ...outer };
    for (const [k, v] of Object.entries(own)) {
      // gnmic's convention for a key name already taken by an outer list: prefix the list name.
      merged[Object.hasOwn(merged, k) ? `${entry.name}_${k}` : k] = v;
    }
    if (Object.keys(own).length === 0) merged = outer as Record<string, string>;
    entry.resolved = Object.freeze(merged);
    return entry.resolved;
  }

  private flushEntry(entry: Frame): void {
    const pending = entry.pending;
    if (!pending) return;
    entry.pending = undefined;
    for (const draft of pending) this.route(draft);
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    const out = this.batch;
    this.batch = [];
    this.emitted += out.length;
    this.options.onBatch(out);
  }
}

/**
 * Parses a standalone XML fragment of data-model content (what a `<data>` element holds) into
 * samples. Throws MalformedMessageError for XML that is not well-formed.
 */
export function xmlToSamples(xml: string, options: Omit<SampleBuilderOptions, 'onBatch'>): Sample[] {
  const out: Sample[] = [];
  const builder = new SampleBuilder({ ...options, onBatch: (batch) => out.push(...batch) });
  const parser = new SaxesParser({ xmlns: true, fragment: true, position: false });
  parser.on('opentag', (tag) => builder.open(tag.local));
  parser.on('text', (text) => builder.text(text));
  parser.on('cdata', (text) => builder.text(text));
  parser.on('closetag', () => builder.close());
  parser.on('error', (e) => {
    throw new MalformedMessageError(`malformed XML: ${e.message}`, { cause: e });
  });
  parser.write(xml).close();
  builder.finish();
  return out;
}
