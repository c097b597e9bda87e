/**
 * Reads one incoming NETCONF message (hello, rpc-reply or notification) as it streams in, through
 * a namespace-aware SAX parser (saxes), and hands its content to whoever waits for it: the hello's
 * capabilities, a reply's `<data>` content and `<rpc-error>`s, a notification's event.
 */
import { StringDecoder } from 'node:string_decoder';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { MalformedMessageError, type RpcErrorInfo, type RpcErrorSeverity } from './errors.js';

export const BASE_NS = 'urn:ietf:params:xml:ns:netconf:base:1.0';
export const NOTIFICATION_NS = 'urn:ietf:params:xml:ns:netconf:notification:1.0';

/** Receives the elements below a reply's `<data>` or a notification's event element. */
export interface ContentSink {
  /** `inScope`: on the first element only, the namespace bindings declared above it. */
  open(tag: SaxesTagNS, inScope?: Readonly<Record<string, string>>): void;
  text(text: string): void;
  close(): void;
}

export interface ReplyTarget {
  /** Where `<data>` content goes; absent: it is skipped. */
  readonly content?: ContentSink | undefined;
  /** When the data sink needs namespace bindings declared above it (a faithful copy). */
  readonly wantsDataElement?: boolean;
}

export interface ReplyOutcome {
  readonly ok: boolean;
  readonly errors: readonly RpcErrorInfo[];
}

export interface MessageReaderHandlers {
  hello(capabilities: string[], sessionId: string | undefined): void;
  /** A reply begins; returns where its content goes (undefined: unknown message-id). */
  replyStart(messageId: string | undefined): ReplyTarget | undefined;
  replyEnd(messageId: string | undefined, outcome: ReplyOutcome): void;
  /** A notification's event begins; returns where its content goes. */
  notificationStart(eventTimeNs: bigint): ContentSink | undefined;
  notificationEnd(): void;
}

type Kind = 'hello' | 'reply' | 'notification' | 'unknown';

const ERROR_FIELDS: Readonly<Record<string, keyof MutableError>> = {
  'error-type': 'errorType',
  'error-tag': 'errorTag',
  'error-severity': 'severity',
  'error-app-tag': 'appTag',
  'error-path': 'path',
  'error-message': 'message',
};

interface MutableError {
  errorType?: string;
  errorTag?: string;
  severity?: string;
  appTag?: string;
  path?: string;
  message?: string;
}

/** Parses an RFC 3339 date-time into nanoseconds since the epoch (fractions to the ns). */
export function parseEventTime(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i.exec(text.trim());
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]?.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = BigInt(((m[2] ?? '') + '000000000').slice(0, 9));
  return BigInt(ms) * 1_000_000n + frac;
}

export class MessageReader {
  private readonly parser = new SaxesParser({ xmlns: true, position: false });
  private readonly decoder = new StringDecoder('utf8');
  private depth = 0;
  private kind: Kind = 'unknown';
  private messageId: string | undefined;
  private target: ReplyTarget | undefined;
  private content: ContentSink | undefined;
  /** Depth at which `content` receives elements (2 for a reply's data, 1 for an event). */
  private contentDepth = 0;
  private ok = false;
  private readonly errors: RpcErrorInfo[] = [];
  private currentError: MutableError | undefined;
  private field: string | undefined;
  private fieldText = '';
  private readonly capabilities: string[] = [];
  private sessionId: string | undefined;
  private eventTimeNs: bigint | undefined;
  private rootNs: Readonly<Record<string, string>> = {};
  private rootClosed = false;
  private done = false;

  constructor(private readonly handlers: MessageReaderHandlers) {
    const p = this.parser;
    p.on('opentag', (tag) => this.onOpen(tag));
    p.on('closetag', () => this.onClose());
    p.on('text', (t) => this.onText(t));
    p.on('cdata', (t) => this.onText(t));
    p.on('error', (e) => {
      throw new MalformedMessageError(`malformed XML: ${e.message}`, { cause: e });
    });
  }

  /** The message id of the reply being read, once its root tag was seen. */
  get replyMessageId(): string | undefined {
    return this.messageId;
  }

  get messageKind(): Kind {
    return this.kind;
  }

  /** Feeds part of the message. Throws MalformedMessageError. */
  write(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    if (text.length > 0) this.parser.write(text);
  }

  /** The message ended. Throws MalformedMessageError if it was incomplete. */
  end(): void {
    const tail = this.decoder.end();
    if (tail.length > 0) this.parser.write(tail);
    this.parser.close();
    if (!this.rootClosed) throw new MalformedMessageError('message ended before its root element closed');
  }

  private onOpen(tag: SaxesTagNS): void {
    const depth = this.depth++;
    if (depth === 0) return this.openRoot(tag);
    if (this.content && depth >= this.contentDepth) return this.content.open(tag);
    if (this.kind === 'reply' && depth === 1) {
      if (tag.uri !== BASE_NS) return;
      if (tag.local === 'data' && this.target?.content) {
        this.content = this.target.content;
        if (this.target.wantsDataElement) {
          this.contentDepth = 1;
          this.content.open(tag, this.rootNs);
        } else {
          this.contentDepth = 2;
        }
      } else if (tag.local === 'ok') {
        this.ok = true;
      } else if (tag.local === 'rpc-error') {
        this.currentError = {};
      }
      return;
    }
    if (this.kind === 'reply' && depth === 2 && this.currentError) {
      this.field = tag.local;
      this.fieldText = '';
      return;
    }
    if (this.kind === 'hello' && (tag.local === 'capability' || tag.local === 'session-id')) {
      this.field = tag.local;
      this.fieldText = '';
      return;
    }
    if (this.kind === 'notification' && depth === 1) {
      if (tag.local === 'eventTime' && tag.uri === NOTIFICATION_NS) {
        this.field = 'eventTime';
        this.fieldText = '';
        return;
      }
      const sink = this.handlers.notificationStart(this.eventTimeNs ?? BigInt(Date.now()) * 1_000_000n);
      if (sink) {
        this.content = sink;
        this.contentDepth = 1;
        sink.open(tag);
      }
    }
  }

  private openRoot(tag: SaxesTagNS): void {
    this.rootNs = { ...tag.ns };
    if (tag.local === 'rpc-reply' && tag.uri === BASE_NS) {
      this.kind = 'reply';
      this.messageId = tag.attributes['message-id']?.value;
      this.target = this.handlers.replyStart(this.messageId);
    } else if (tag.local === 'notification' && tag.uri === NOTIFICATION_NS) {
      this.kind = 'notification';
    } else if (tag.local === 'hello' && tag.uri === BASE_NS) {
      this.kind = 'hello';
    } else {
      throw new MalformedMessageError(`unexpected root element {${tag.uri}}${tag.local}`);
    }
  }

  private onText(text: string): void {
    if (this.content && this.depth > this.contentDepth) return this.content.text(text);
    if (this.field !== undefined) this.fieldText += text;
  }

  private onClose(): void {
    const depth = --this.depth;
    if (this.content) {
      if (depth >= this.contentDepth) this.content.close();
      // Content always hangs off depth 1: a reply's <data> or a notification's event element.
      if (depth === 1) {
        this.content = undefined;
        if (this.kind === 'notification') this.handlers.notificationEnd();
      }
      if (depth >= 1) return;
    }
    if (depth === 0) return this.closeRoot();
    if (this.field !== undefined) {
      this.closeField(depth);
      return;
    }
    if (this.kind === 'reply' && depth === 1 && this.currentError) {
      const e = this.currentError;
      this.currentError = undefined;
      const severity: RpcErrorSeverity = e.severity === 'warning' ? 'warning' : 'error';
      this.errors.push({
        errorType: e.errorType ?? 'rpc',
        errorTag: e.errorTag ?? 'unknown',
        severity,
        ...(e.appTag !== undefined && { appTag: e.appTag }),
        ...(e.path !== undefined && { path: e.path.trim() }),
        ...(e.message !== undefined && { message: e.message.trim() }),
      });
    }
  }

  private closeField(depth: number): void {
    const name = this.field as string;
    const text = this.fieldText;
    this.field = undefined;
    this.fieldText = '';
    if (this.kind === 'hello') {
      if (name === 'capability') this.capabilities.push(text.trim());
      else this.sessionId = text.trim();
    } else if (this.kind === 'notification') {
      this.eventTimeNs = parseEventTime(text);
    } else if (this.currentError && depth === 2) {
      const key = ERROR_FIELDS[name];
      if (key) this.currentError[key] = text.trim();
    }
  }

  private closeRoot(): void {
    this.rootClosed = true;
    if (this.done) return;
    this.done = true;
    if (this.kind === 'hello') this.handlers.hello(this.capabilities, this.sessionId);
    else if (this.kind === 'reply')
      this.handlers.replyEnd(this.messageId, { ok: this.ok, errors: this.errors });
  }
}
