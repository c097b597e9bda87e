/** A measured value as the schema's MetricValue shows it, whether from PostgreSQL or the live path. */
export interface MetricValue {
  path: string;
  labels: Record<string, string>;
  timestampNs: string;
  value: number | null;
  text: string | null;
  deleted: boolean;
}

/** Same encoding as the worker's COPY rows: numbers in value, strings in text, booleans in both. */
export function fromSampleValue(
  v: number | string | boolean | undefined,
): Pick<MetricValue, 'value' | 'text' | 'deleted'> {
  if (v === undefined) return { value: null, text: null, deleted: true };
  if (typeof v === 'number') return { value: v, text: null, deleted: false };
  if (typeof v === 'boolean') return { value: v ? 1 : 0, text: v ? 'true' : 'false', deleted: false };
  return { value: null, text: v, deleted: false };
}

export function timestampFromNs(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}
