/**
 * The chart's Grafana dashboards as data: their panels' queries, with Grafana's macros and
 * template variables replaced the way Grafana would for a given time range and selection.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartDir } from './helm.js';

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  kind: 'prometheus' | 'postgres';
  /** As written in the dashboard. */
  text: string;
}

interface Target {
  refId: string;
  expr?: string;
  rawSql?: string;
}
interface Panel {
  title: string;
  type: string;
  datasource?: { type: string };
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; datasource?: { type: string } }[] };
}

export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  const dir = join(chartDir, 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard }));
}

export function panelQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const { dashboard } of loadDashboards()) {
    const visit = (p: Panel) => {
      for (const t of p.targets ?? []) {
        const kind = p.datasource?.type === 'prometheus' ? 'prometheus' : 'postgres';
        const text = kind === 'prometheus' ? t.expr : t.rawSql;
        if (!text) throw new Error(`${dashboard.title} / ${p.title} / ${t.refId}: empty query`);
        out.push({ dashboard: dashboard.title, panel: p.title, refId: t.refId, kind, text });
      }
      p.panels?.forEach(visit);
    };
    dashboard.panels.forEach(visit);
  }
  return out;
}

/** PromQL as Grafana sends it: `$__rate_interval` etc. replaced, every variable set to "all". */
export function expandPromQL(expr: string, rateInterval: string): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', '5m')
    .replace(/\$\{?(\w+)\}?/g, '.*');
}

/** SQL as Grafana's PostgreSQL data source sends it, for the last hour and the given devices. */
export function expandSql(sql: string, devices: string[]): string {
  const quoted = devices.map((d) => `'${d.replaceAll("'", "''")}'`).join(',');
  return sql
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_, col: string) => `${col} BETWEEN now() - interval '1 hour' AND now()`,
    )
    .replaceAll('$device', quoted)
    .replaceAll('${device}', quoted);
}

/** Prometheus metric names a query reads (each written with a selector, `name{...}`), histogram series folded to the instrument's name. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  // A metric name is followed by its selector, a range, a closing parenthesis or the end; label
  // lists (`by (...)`, `on (...)`) hold label names, which may look like metric names.
  const withoutLabelLists = expr.replace(
    /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
    '',
  );
  for (const m of withoutLabelLists.matchAll(
    /\b((?:switchforge|http_server|db_client|nodejs|v8js|temporal)_[a-z0-9_]+)(?=[{[)\s]|$)/g,
  )) {
    names.add(m[1]!.replace(/_(bucket|sum|count)$/, ''));
  }
  return [...names];
}
