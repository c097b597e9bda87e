/**
 * The sum of one metric over all its label sets in a Prometheus text exposition
 * (`name{labels} value` or `name value` lines); 0 when the metric is absent.
 */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue; // a longer name with the same prefix
    const value = Number(
      rest
        .slice(rest.lastIndexOf('}') + 1)
        .trim()
        .split(/\s+/)[0],
    );
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** Scrapes a Prometheus endpoint on loopback and sums the named metrics. */
export async function scrapeSums(url: string, names: readonly string[]): Promise<Record<string, number>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const text = await response.text();
  return Object.fromEntries(names.map((n) => [n, sumMetric(text, n)]));
}
