/**
 * Incremental JSON-lines decoding: bytes arrive in arbitrary chunks, a line may be split across
 * them, and a script may print noise (warnings, library banners) between its JSON lines.
 */
export type JsonLine =
  | { readonly kind: 'json'; readonly value: Record<string, unknown> }
  | { readonly kind: 'noise'; readonly text: string };

/** Longest line kept while waiting for its newline; beyond it the line is noise and dropped. */
const MAX_LINE_CHARS = 1 << 20;

export class JsonLinesDecoder {
  private pending = '';
  private overflowed = false;
  private readonly decoder = new TextDecoder('utf-8');

  /** Feeds a chunk; returns the complete lines it finished. */
  push(chunk: Uint8Array | string): JsonLine[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: JsonLine[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = this.take(text.slice(start, nl));
      if (line !== undefined) out.push(parseLine(line));
      start = nl + 1;
    }
    this.append(text.slice(start));
    return out;
  }

  /** The last line, if the stream ended without a newline. */
  end(): JsonLine[] {
    const tail = this.take(this.decoder.decode());
    return tail === undefined || tail.trim() === '' ? [] : [parseLine(tail)];
  }

  private append(s: string): void {
    if (this.overflowed) return;
    if (this.pending.length + s.length > MAX_LINE_CHARS) {
      this.overflowed = true;
      this.pending = '';
      return;
    }
    this.pending += s;
  }

  private take(s: string): string | undefined {
    const wasOverflowed = this.overflowed;
    const line = this.pending + s;
    this.pending = '';
    this.overflowed = false;
    return wasOverflowed ? undefined : line;
  }
}

export function parseLine(raw: string): JsonLine {
  const text = raw.replace(/\r$/, '');
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return { kind: 'noise', text };
  try {
    const value: unknown = JSON.parse(trimmed);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return { kind: 'json', value: value as Record<string, unknown> };
    }
  } catch {
    // A line that merely starts with '{' is still noise.
  }
  return { kind: 'noise', text };
}
