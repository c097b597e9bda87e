/** One line of the benchmark report: what was measured, its value, the goal, and how it compares. */
export interface Figure {
  readonly benchmark: string;
  readonly figure: string;
  readonly value: string;
  readonly goal?: string;
  readonly comparison?: string;
}

const HEADERS = ['benchmark', 'figure', 'value', 'goal', 'comparison'] as const;

/** A plain-text table, columns padded to their widest cell, for a terminal or a CI log. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [f.benchmark, f.figure, f.value, f.goal ?? '', f.comparison ?? '']);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const thousands = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatRate(perSecond: number, unit = 'updates/s'): string {
  return `${thousands.format(Math.round(perSecond))} ${unit}`;
}

export function formatBytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
}

/** "2.31x Telegraf" style: how many times `ours` is `theirs` (both higher-is-better). */
export function ratio(ours: number, theirs: number, name: string): string {
  if (!(theirs > 0)) return `${name}: no figure`;
  return `${(ours / theirs).toFixed(2)}x ${name}`;
}
