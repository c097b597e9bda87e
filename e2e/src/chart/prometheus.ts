/**
 * A real Prometheus (Debian's package, installed by e2e/infra/prometheus.sh) on a free loopback
 * port, scraping the given targets every second, with its HTTP API for queries.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@switchforge/testkit/paths';
import { run, stopChild } from '@switchforge/testkit/processes';
import { freePort, waitFor } from '@switchforge/testkit/ports';

export interface ScrapeJob {
  job: string;
  /** host:port of a /metrics endpoint. */
  targets: string[];
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  url: string;
  query(expr: string): Promise<PromSample[]>;
  /** Values of a label over the series `match` selects (Grafana's label_values()). */
  labelValues(label: string, match: string): Promise<string[]>;
  /** Targets' health by job. */
  targets(): Promise<{ job: string; health: string; lastError: string }[]>;
  log(): string;
  stop(): Promise<void>;
}

export async function prometheusBinary(): Promise<string> {
  const r = await run('bash', [join(repoRoot, 'e2e/infra/prometheus.sh')], { timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw new Error(`installing prometheus: ${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1)!;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? response.status}`);
  return body.data;
}

export async function startPrometheus(jobs: ScrapeJob[]): Promise<Prometheus> {
  const bin = await prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'switchforge-prometheus-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    ...jobs.flatMap((j) => [
      `  - job_name: ${JSON.stringify(j.job)}`,
      '    static_configs:',
      `      - targets: ${JSON.stringify(j.targets)}`,
    ]),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const logFile = join(dir, 'prometheus.log');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      bin,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', fd, fd] },
    );
  } finally {
    closeSync(fd);
  }
  const url = `http://127.0.0.1:${port}`;
  const log = () => readFileSync(logFile, 'utf8').slice(-4000);
  try {
    await waitFor('prometheus to be ready', async () => (await fetch(`${url}/-/ready`)).ok, 30_000, 250);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${log()}`);
  }
  return {
    url,
    query: async (expr) =>
      (
        await api<{ resultType: string; result: PromSample[] }>(
          `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result,
    labelValues: (label, match) =>
      api<string[]>(
        `${url}/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`,
      ),
    targets: async () =>
      (
        await api<{ activeTargets: { labels: { job: string }; health: string; lastError: string }[] }>(
          `${url}/api/v1/targets`,
        )
      ).activeTargets.map((t) => ({ job: t.labels.job, health: t.health, lastError: t.lastError })),
    log,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
