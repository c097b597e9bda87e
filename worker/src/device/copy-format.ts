import type { Sample } from './sample.js';

/**
 * Encodes samples as PostgreSQL binary COPY rows for `metric_samples`. Binary, because it is the
 * hot path: PostgreSQL takes timestamps and doubles as they are instead of parsing text, and the
 * encoder writes into one buffer with no intermediate strings.
 */
export const SAMPLE_COLUMNS = '(series_id, ts, value, deleted, value_text)';

/**
 * A decimal number in text: JSON_IETF sends 64-bit integers as strings (RFC 7951) and values
 * above 2^53 stay strings to keep their digits. They are numbers all the same: the value column
 * gets the number, value_text keeps the exact digits.
 */
const NUMERIC_TEXT = /^-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
const PG_EPOCH_US = 946_684_800_000_000n;
const FIELDS = 5;
const CHUNK_BYTES = 256 * 1024;
/** Field count, then series_id, ts, value (with their lengths) and deleted: no text. */
const FIXED_ROW_BYTES = 2 + 12 + 12 + 12 + 5 + 4;

export interface ColumnValues {
  value: number | null;
  text: string | null;
  deleted: boolean;
}

/** What each value kind stores: numbers in value, strings in text, booleans in both. */
export function columnValues(v: Sample['value']): ColumnValues {
  if (v === undefined) return { value: null, text: null, deleted: true };
  if (typeof v === 'number') return { value: v, text: null, deleted: false };
  if (typeof v === 'boolean') return { value: v ? 1 : 0, text: v ? 'true' : 'false', deleted: false };
  if (NUMERIC_TEXT.test(v)) return { value: Number(v), text: v, deleted: false };
  return { value: null, text: v, deleted: false };
}

/** Nanoseconds since the Unix epoch → microseconds since PostgreSQL's epoch (truncated). */
export function pgMicros(ns: bigint): bigint {
  return ns / 1000n - PG_EPOCH_US;
}

/**
 * The COPY stream for `batch`, `seriesIds[i]` being the series of `batch[i]`: header, rows and
 * trailer, in chunks of about 256 KiB.
 */
export function* binaryCopyChunks(batch: readonly Sample[], seriesIds: ArrayLike<number>): Generator<Buffer> {
  let buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let at = SIGNATURE.copy(buf, 0);
  at = buf.writeInt32BE(0, at); // flags
  at = buf.writeInt32BE(0, at); // header extension length
  for (let i = 0; i < batch.length; i++) {
    const s = batch[i]!;
    const { value, text, deleted } = columnValues(s.value);
    const textBytes = text === null ? 0 : Buffer.byteLength(text);
    const need = FIXED_ROW_BYTES + textBytes;
    if (at + need > buf.length) {
      yield buf.subarray(0, at);
      buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need));
      at = 0;
    }
    at = buf.writeInt16BE(FIELDS, at);
    const id = seriesIds[i]!;
    at = buf.writeInt32BE(8, at);
    at = buf.writeUInt32BE(Math.floor(id / 0x1_0000_0000), at);
    at = buf.writeUInt32BE(id >>> 0, at);
    at = buf.writeInt32BE(8, at);
    at = buf.writeBigInt64BE(pgMicros(s.timestampNs), at);
    if (value === null) {
      at = buf.writeInt32BE(-1, at);
    } else {
      at = buf.writeInt32BE(8, at);
      at = buf.writeDoubleBE(value, at);
    }
    at = buf.writeInt32BE(1, at);
    at = buf.writeUInt8(deleted ? 1 : 0, at);
    if (text === null) {
      at = buf.writeInt32BE(-1, at);
    } else {
      at = buf.writeInt32BE(textBytes, at);
      at += buf.write(text, at, 'utf8');
    }
  }
  if (at + 2 > buf.length) {
    yield buf.subarray(0, at);
    buf = Buffer.allocUnsafe(2);
    at = 0;
  }
  at = buf.writeInt16BE(-1, at); // trailer
  yield buf.subarray(0, at);
}
