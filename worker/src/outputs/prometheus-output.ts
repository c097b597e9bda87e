/**
 * The Prometheus output: `/metrics` on its own port, rendered from the latest-value cache in the
 * text exposition format (0.0.4). Written out here with node:http alone, so this output costs the
 * worker no package: a counter is `# TYPE … counter` under gnmic's name (no `_total` added), a
 * gauge and an info series `# TYPE … gauge`. No timestamps: Prometheus stamps the scrape, and
 * a series the switch deleted goes stale the usual way.
 */
import { createServer, type Server } from 'node:http';
import type { LatestValues } from './latest-values.js';

const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

const formatNumber = (n: number) =>
  Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n);

/** The cache as Prometheus text. */
export function renderPrometheusText(cache: LatestValues): string {
  const out: string[] = [];
  for (const family of cache.families()) {
    if (family.series.size === 0) continue;
    out.push(`# TYPE ${family.name} ${family.kind === 'counter' ? 'counter' : 'gauge'}`);
    for (const s of family.series.values()) {
      let labels = '';
      for (const k in s.labels) labels += `${labels ? ',' : ''}${k}="${escapeValue(s.labels[k]!)}"`;
      out.push(`${family.name}{${labels}} ${formatNumber(s.value)}`);
    }
  }
  out.push('');
  return out.join('\n');
}

export interface PrometheusOutput {
  readonly port: number;
  close(): Promise<void>;
}

export async function startPrometheusOutput(
  cache: () => LatestValues,
  options: { host: string; port: number },
): Promise<PrometheusOutput> {
  const server: Server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    res.end(renderPrometheusText(cache()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: address && typeof address === 'object' ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
