import type { Sample } from './sample.js';

/**
 * Encodes samples as PostgreSQL COPY text rows for the metrics table's columns
 * (ts, device, path, labels, value, value_text, deleted). Hand-written because it is the hot
 * path: one string concatenation per sample, no intermediate objects.
 */
export const METRIC_COLUMNS = '(ts, device, path, labels, value, value_text, deleted)';

const NEEDS_ESCAPE = /[\\\t\n\r]/;
/**
 * A decimal number in text: JSON_IETF sends 64-bit integers as strings (RFC 7951) and values
 * above 2^53 stay strings to keep their digits. They are numbers all the same: the value column
 * gets the number (PostgreSQL parses the literal itself), value_text keeps the exact digits.
 */
const NUMERIC_TEXT = /^-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export function escapeCopyText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

const NS_PER_MS = 1_000_000n;

/** Nanoseconds since the epoch → a timestamptz literal with microseconds, in UTC. */
export function timestampLiteral(ns: bigint): string {
  const ms = ns / NS_PER_MS;
  const micros = Number((ns % NS_PER_MS) / 1000n);
  const iso = new Date(Number(ms)).toISOString(); // 2026-11-26T10:00:00.123Z
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}+00`;
}

const EMPTY_LABELS = '{}';

export function encodeLabels(labels: Readonly<Record<string, string>>): string {
  for (const _ in labels) return escapeCopyText(JSON.stringify(labels));
  return EMPTY_LABELS;
}

export function copyRow(sample: Sample): string {
  const v = sample.value;
  let value: string;
  let text: string;
  let deleted = 'f';
  if (v === undefined) {
    value = '\\N';
    text = '\\N';
    deleted = 't';
  } else if (typeof v === 'number') {
    value = Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
    text = '\\N';
  } else if (typeof v === 'boolean') {
    value = v ? '1' : '0';
    text = v ? 'true' : 'false';
  } else if (NUMERIC_TEXT.test(v)) {
    value = v;
    text = v;
  } else {
    value = '\\N';
    text = escapeCopyText(v);
  }
  return `${timestampLiteral(sample.timestampNs)}\t${escapeCopyText(sample.device)}\t${escapeCopyText(sample.path)}\t${encodeLabels(sample.labels)}\t${value}\t${text}\t${deleted}\n`;
}
