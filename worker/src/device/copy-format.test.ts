import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryCopyChunks, columnValues, pgMicros } from './copy-format.js';
import type { Sample } from './sample.js';

interface DecodedRow {
  seriesId: bigint;
  micros: bigint;
  value: number | null;
  deleted: boolean;
  text: string | null;
}

/** Reads a binary COPY stream back the way PostgreSQL does: header, tuples, trailer. */
function decode(stream: Buffer): DecodedRow[] {
  assert.equal(stream.subarray(0, 11).toString('latin1'), 'PGCOPY\n\xff\r\n\0');
  let at = 19;
  const rows: DecodedRow[] = [];
  const field = () => {
    const len = stream.readInt32BE(at);
    at += 4;
    if (len < 0) return null;
    const bytes = stream.subarray(at, at + len);
    at += len;
    return bytes;
  };
  for (;;) {
    const fields = stream.readInt16BE(at);
    at += 2;
    if (fields === -1) break;
    assert.equal(fields, 5);
    const [id, ts, value, deleted, text] = [field(), field(), field(), field(), field()];
    rows.push({
      seriesId: id!.readBigInt64BE(),
      micros: ts!.readBigInt64BE(),
      value: value ? value.readDoubleBE() : null,
      deleted: deleted![0] === 1,
      text: text ? text.toString('utf8') : null,
    });
  }
  assert.equal(at, stream.length, 'nothing after the trailer');
  return rows;
}

test('timestamps become microseconds since 2000-01-01, truncating nanoseconds', () => {
  assert.equal(pgMicros(946_684_800_000_000_000n), 0n);
  assert.equal(pgMicros(1_764_151_200_123_456_789n), 1_764_151_200_123_456n - 946_684_800_000_000n);
  assert.equal(pgMicros(0n), -946_684_800_000_000n);
});

test('each value kind becomes the right columns, and a delete is a marked row', () => {
  const cases: Array<[Sample['value'], ReturnType<typeof columnValues>]> = [
    [42, { value: 42, text: null, deleted: false }],
    [true, { value: 1, text: 'true', deleted: false }],
    ['UP', { value: null, text: 'UP', deleted: false }],
    [undefined, { value: null, text: null, deleted: true }],
    // JSON_IETF 64-bit integers arrive as strings: numbers for queries, exact digits kept as text.
    ['18446744073709551615', { value: 2 ** 64, text: '18446744073709551615', deleted: false }],
    ['-12.5e3', { value: -12500, text: '-12.5e3', deleted: false }],
    ['12 dBm', { value: null, text: '12 dBm', deleted: false }],
  ];
  for (const [input, want] of cases) assert.deepEqual(columnValues(input), want, String(input));
  assert.ok(Number.isNaN(columnValues(Number.NaN).value));
});

test('a batch encodes as one binary COPY stream, split in chunks, with ids, text and large series ids intact', () => {
  const t0 = 1_764_151_200_000_000_000n;
  const batch: Sample[] = Array.from({ length: 20_000 }, (_, i) => ({
    device: 'lab/sw1',
    path: '/x',
    labels: {},
    timestampNs: t0 + BigInt(i) * 1000n,
    value: i % 3 === 0 ? `état\t${i}` : i % 3 === 1 ? i : undefined,
  }));
  const ids = Float64Array.from(batch, (_, i) => (i === 7 ? 2 ** 40 + 5 : i + 1));
  const chunks = [...binaryCopyChunks(batch, ids)];
  assert.ok(chunks.length > 1, `${chunks.length} chunks`);
  const rows = decode(Buffer.concat(chunks));
  assert.equal(rows.length, batch.length);
  assert.deepEqual(rows[0], {
    seriesId: 1n,
    micros: pgMicros(t0),
    value: null,
    deleted: false,
    text: 'état\t0',
  });
  assert.deepEqual(rows[1], {
    seriesId: 2n,
    micros: pgMicros(t0) + 1n,
    value: 1,
    deleted: false,
    text: null,
  });
  assert.deepEqual(rows[2], {
    seriesId: 3n,
    micros: pgMicros(t0) + 2n,
    value: null,
    deleted: true,
    text: null,
  });
  assert.equal(rows[7]!.seriesId, 2n ** 40n + 5n);
});
