/**
 * NETCONF-over-SSH message framing (RFC 6242), decoded as a stream: a message's bytes are handed
 * on as they arrive, so a large reply is never held whole. Both framings:
 * - end-of-message: the message, then `]]>]]>` (base:1.0, and every hello);
 * - chunked: `\n#<size>\n<size bytes>` repeated, then `\n##\n` (base:1.1).
 */
import { FramingError } from './errors.js';

export type Framing = 'eom' | 'chunked';

export const EOM = Buffer.from(']]>]]>');
/** RFC 6242 §4.2: chunk-size is 1..4294967295. */
const MAX_CHUNK_SIZE = 4294967295;
const MAX_CHUNK_DIGITS = 10;

export interface FrameSink {
  /** Part of the current message (never empty). */
  data(chunk: Buffer): void;
  /** The current message is complete. The sink may switch the decoder's framing here. */
  end(): void;
}

const LF = 0x0a;
const HASH = 0x23;

type ChunkState =
  | 'lf' // expecting the `\n` that opens a chunk header or the end-of-chunks marker
  | 'hash' // expecting `#`
  | 'first' // expecting a size's first digit [1-9], or the second `#` of `\n##\n`
  | 'digits' // inside the size; `\n` ends it
  | 'end-lf' // after `\n##`, expecting `\n`
  | 'data'; // inside a chunk's bytes

export class FrameDecoder {
  private framing: Framing;
  private readonly maxMessageBytes: number;
  /** Bytes of the current message handed on so far (payload only). */
  private messageBytes = 0;
  /** End-of-message framing: a held tail that may be the start of `]]>]]>`. */
  private eomHeld: Buffer = Buffer.alloc(0);
  private chunkState: ChunkState = 'lf';
  private chunkSize = 0;
  private chunkDigits = 0;
  private chunkRemaining = 0;
  private chunksInMessage = 0;
  private failed: FramingError | undefined;

  constructor(options: { maxMessageBytes: number; framing?: Framing }) {
    this.maxMessageBytes = options.maxMessageBytes;
    this.framing = options.framing ?? 'eom';
  }

  get currentFraming(): Framing {
    return this.framing;
  }

  /** Switches framing between messages (after the hello exchange). */
  setFraming(framing: Framing): void {
    this.framing = framing;
  }

  /** Whether bytes of an unfinished message are pending (a peer that closes now cut a reply short). */
  get midMessage(): boolean {
    return (
      this.messageBytes > 0 ||
      this.eomHeld.length > 0 ||
      (this.framing === 'chunked' && this.chunkState !== 'lf')
    );
  }

  /** Feeds bytes; calls the sink for each part and each end. Throws FramingError, then keeps throwing it. */
  push(input: Buffer, sink: FrameSink): void {
    if (this.failed) throw this.failed;
    try {
      let rest = input;
      while (rest.length > 0) {
        rest = this.framing === 'eom' ? this.pushEom(rest, sink) : this.pushChunked(rest, sink);
      }
    } catch (e) {
      if (e instanceof FramingError) this.failed = e;
      throw e;
    }
  }

  private emit(sink: FrameSink, part: Buffer): void {
    if (part.length === 0) return;
    this.messageBytes += part.length;
    if (this.messageBytes > this.maxMessageBytes) {
      throw new FramingError('MessageTooLarge', `message exceeds ${this.maxMessageBytes} bytes`);
    }
    sink.data(part);
  }

  private finish(sink: FrameSink): void {
    this.messageBytes = 0;
    this.chunksInMessage = 0;
    sink.end();
  }

  /** Consumes up to one message end; returns the bytes not yet looked at. */
  private pushEom(input: Buffer, sink: FrameSink): Buffer {
    const buf = this.eomHeld.length > 0 ? Buffer.concat([this.eomHeld, input]) : input;
    this.eomHeld = Buffer.alloc(0);
    const at = buf.indexOf(EOM);
    if (at >= 0) {
      this.emit(sink, buf.subarray(0, at));
      this.finish(sink);
      return buf.subarray(at + EOM.length);
    }
    // Hold back the longest tail that could begin a delimiter split across reads.
    let hold = Math.min(EOM.length - 1, buf.length);
    while (hold > 0 && !buf.subarray(buf.length - hold).equals(EOM.subarray(0, hold))) hold--;
    this.emit(sink, buf.subarray(0, buf.length - hold));
    this.eomHeld = Buffer.from(buf.subarray(buf.length - hold));
    return Buffer.alloc(0);
  }

  private pushChunked(input: Buffer, sink: FrameSink): Buffer {
    let i = 0;
    while (i < input.length) {
      if (this.chunkState === 'data') {
        const take = Math.min(this.chunkRemaining, input.length - i);
        this.emit(sink, input.subarray(i, i + take));
        i += take;
        this.chunkRemaining -= take;
        if (this.chunkRemaining === 0) this.chunkState = 'lf';
        continue;
      }
      const byte = input[i] as number;
      i++;
      switch (this.chunkState) {
        case 'lf':
          if (byte !== LF) throw this.badHeader(byte, 'a newline');
          this.chunkState = 'hash';
          break;
        case 'hash':
          if (byte !== HASH) throw this.badHeader(byte, '#');
          this.chunkState = 'first';
          break;
        case 'first':
          if (byte === HASH) {
            this.chunkState = 'end-lf';
          } else if (byte >= 0x31 && byte <= 0x39) {
            this.chunkSize = byte - 0x30;
            this.chunkDigits = 1;
            this.chunkState = 'digits';
          } else {
            throw this.badHeader(byte, 'a chunk size or #');
          }
          break;
        case 'digits':
          if (byte === LF) {
            this.chunkRemaining = this.chunkSize;
            this.chunksInMessage++;
            this.chunkState = 'data';
          } else if (byte >= 0x30 && byte <= 0x39 && this.chunkDigits < MAX_CHUNK_DIGITS) {
            this.chunkSize = this.chunkSize * 10 + (byte - 0x30);
            this.chunkDigits++;
            if (this.chunkSize > MAX_CHUNK_SIZE) {
              throw new FramingError('BadChunkHeader', `chunk size exceeds ${MAX_CHUNK_SIZE}`);
            }
          } else {
            throw this.badHeader(byte, 'a digit or newline');
          }
          break;
        case 'end-lf':
          if (byte !== LF) throw this.badHeader(byte, 'a newline');
          if (this.chunksInMessage === 0)
            throw new FramingError('EmptyMessage', 'end-of-chunks with no chunk');
          this.chunkState = 'lf';
          this.finish(sink);
          // The sink may have switched framing: hand the rest back to push().
          return input.subarray(i);
      }
    }
    return Buffer.alloc(0);
  }

  private badHeader(byte: number, expected: string): FramingError {
    const shown = byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `0x${byte.toString(16)}`;
    return new FramingError('BadChunkHeader', `chunked framing: expected ${expected}, got ${shown}`);
  }
}

/** Encodes one message for sending in the given framing. */
export function encodeMessage(xml: string, framing: Framing): Buffer {
  const body = Buffer.from(xml, 'utf8');
  if (framing === 'eom') return Buffer.concat([body, EOM]);
  return Buffer.concat([Buffer.from(`\n#${body.length}\n`), body, Buffer.from('\n##\n')]);
}
