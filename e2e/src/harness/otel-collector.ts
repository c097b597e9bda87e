/**
 * A real OpenTelemetry Collector (built from its Go modules by `e2e/infra/build-binaries.sh
 * otelcol`: the OTLP receiver and the file exporter) on a free loopback port, writing what it
 * receives as OTLP JSON lines that `points` reads back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@switchforge/testkit/paths';
import { run, stopChild } from '@switchforge/testkit/processes';
import { freePort, waitFor } from '@switchforge/testkit/ports';

export interface OtlpPoint {
  /** Resource attributes of the export. */
  resource: Record<string, string>;
  metric: string;
  /** `sum` (with `monotonic`) or `gauge`. */
  type: 'sum' | 'gauge';
  monotonic: boolean;
  attributes: Record<string, string>;
  value: number;
  timeUnixNano: string;
}

export interface OtelCollector {
  /** The OTLP/HTTP base URL (what `spec.outputs.otlp.endpoint` takes). */
  endpoint: string;
  /** Every data point received so far, in order. */
  points(): OtlpPoint[];
  log(): string;
  stop(): Promise<void>;
}

export async function otelcolBinary(): Promise<string> {
  const r = await run('bash', [join(repoRoot, 'e2e/infra/build-binaries.sh'), 'otelcol'], {
    timeoutMs: 20 * 60_000,
  });
  const bin = join(process.env.SWITCHFORGE_CACHE ?? join(homedir(), '.cache/switchforge'), 'bin/otelcol');
  if (r.code !== 0 || !existsSync(bin)) throw new Error(`building otelcol: ${r.stderr.slice(-2000)}`);
  return bin;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface DataPoint {
  attributes?: KeyValue[];
  asInt?: string | number;
  asDouble?: number;
  timeUnixNano: string;
}
interface ExportLine {
  resourceMetrics: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics: {
      metrics: {
        name: string;
        sum?: { dataPoints: DataPoint[]; isMonotonic?: boolean };
        gauge?: { dataPoints: DataPoint[] };
      }[];
    }[];
  }[];
}

const attrs = (list: KeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (list ?? []).map((kv) => [
      kv.key,
      String(kv.value.stringValue ?? kv.value.intValue ?? kv.value.doubleValue ?? kv.value.boolValue ?? ''),
    ]),
  );

export function parseOtlpJsonLines(text: string): OtlpPoint[] {
  const out: OtlpPoint[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let body: ExportLine;
    try {
      body = JSON.parse(line) as ExportLine;
    } catch {
      continue; // the line the exporter is still writing
    }
    for (const rm of body.resourceMetrics) {
      const resource = attrs(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          const type = m.sum ? 'sum' : 'gauge';
          for (const dp of (m.sum ?? m.gauge)?.dataPoints ?? []) {
            out.push({
              resource,
              metric: m.name,
              type,
              monotonic: m.sum?.isMonotonic ?? false,
              attributes: attrs(dp.attributes),
              value: Number(dp.asDouble ?? dp.asInt),
              timeUnixNano: dp.timeUnixNano,
            });
          }
        }
      }
    }
  }
  return out;
}

export async function startOtelCollector(): Promise<OtelCollector> {
  const bin = await otelcolBinary();
  const dir = mkdtempSync(join(tmpdir(), 'switchforge-otelcol-'));
  const port = await freePort();
  const out = join(dir, 'metrics.jsonl');
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${out}`,
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    metrics:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'otelcol.log');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, [`--config=file:${join(dir, 'config.yaml')}`], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const log = () => readFileSync(logFile, 'utf8').slice(-4000);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    // The receiver answers 405 to a GET once it listens.
    await waitFor(
      'the collector to listen',
      async () => (await fetch(`${endpoint}/v1/metrics`).catch(() => undefined)) !== undefined,
      30_000,
      200,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${log()}`);
  }
  return {
    endpoint,
    points: () => (existsSync(out) ? parseOtlpJsonLines(readFileSync(out, 'utf8')) : []),
    log,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
