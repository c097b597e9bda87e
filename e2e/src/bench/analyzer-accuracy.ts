/**
 * Tempo and key accuracy of the analyzer beside librosa and essentia on the same held-out tracks
 * in the same run (python-workers/bench_analyzer_accuracy.py). It runs in its own venv
 * (python-workers/setup-bench.sh, built here when missing): essentia is AGPL-3.0 and stays out
 * of the image's venv.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';
import { formatSeconds, type Figure } from './figures.js';

/** Goals of issue 14: mir_eval Accuracy1/Accuracy2 at 4 %, MIREX weighted key score. */
export const ACCURACY_GOALS = { acc1: 0.9, acc2: 0.98, keyWeighted: 0.95 } as const;

export type AccuracyRow =
  | {
      analyzer: string;
      acc1: number;
      acc2: number;
      keyWeighted: number;
      exactKeys: number;
      keyedTracks: number;
      secondsPerMinute: number;
    }
  | { analyzer: string; error: string };

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function field<T>(row: Record<string, unknown>, key: string, is: (v: unknown) => v is T): T {
  const value = row[key];
  if (!is(value))
    throw new Error(`bench_analyzer_accuracy.py figures: "${key}" is missing or has the wrong type`);
  return value;
}

/** Reads the JSON file bench_analyzer_accuracy.py writes with `--json`. */
export function parseAccuracyRows(text: string): AccuracyRow[] {
  const rows: unknown = JSON.parse(text);
  if (!Array.isArray(rows) || rows.length === 0)
    throw new Error('bench_analyzer_accuracy.py figures: expected a non-empty list');
  return rows.map((raw): AccuracyRow => {
    if (typeof raw !== 'object' || raw === null)
      throw new Error('bench_analyzer_accuracy.py figures: expected objects');
    const row = raw as Record<string, unknown>;
    const analyzer = field(row, 'analyzer', (v): v is string => typeof v === 'string');
    if (typeof row.error === 'string') return { analyzer, error: row.error };
    return {
      analyzer,
      acc1: field(row, 'acc1', isNumber),
      acc2: field(row, 'acc2', isNumber),
      keyWeighted: field(row, 'key_weighted', isNumber),
      exactKeys: field(row, 'exact_keys', isNumber),
      keyedTracks: field(row, 'keyed_tracks', isNumber),
      secondsPerMinute: field(row, 'seconds_per_minute', isNumber),
    };
  });
}

export function accuracyFigures(rows: readonly AccuracyRow[]): Figure[] {
  const g = ACCURACY_GOALS;
  return rows.map((r) => {
    if ('error' in r) return { benchmark: 'analyzer', figure: `accuracy: ${r.analyzer}`, value: r.error };
    const met = r.acc1 >= g.acc1 && r.acc2 >= g.acc2 && r.keyWeighted >= g.keyWeighted;
    return {
      benchmark: 'analyzer',
      figure: `accuracy (held-out set): ${r.analyzer}`,
      value:
        `tempo Acc1 ${r.acc1.toFixed(3)}, Acc2 ${r.acc2.toFixed(3)}; key weighted ${r.keyWeighted.toFixed(3)}, ` +
        `${r.exactKeys}/${r.keyedTracks} exact; ${formatSeconds(r.secondsPerMinute)} per min`,
      goal: `Acc1 ≥ ${g.acc1}, Acc2 ≥ ${g.acc2}, key ≥ ${g.keyWeighted}`,
      comparison: met ? 'meets goal' : 'misses goal',
    };
  });
}

export async function runAccuracyBenchmark(options: {
  timeoutMs: number;
  progress: (line: string) => void;
}): Promise<Figure[]> {
  const workers = join(repoRoot, 'python-workers');
  const setup = await run('bash', [join(workers, 'setup-bench.sh')], {
    cwd: workers,
    timeoutMs: options.timeoutMs,
  });
  if (setup.code !== 0)
    throw new Error(`python-workers/setup-bench.sh exited ${setup.code}: ${setup.stderr.slice(-2000)}`);
  const python = join(setup.stdout.trim().split('\n').at(-1)!, 'bin', 'python');
  const dir = await mkdtemp(join(tmpdir(), 'switchforge-analyzer-accuracy-'));
  try {
    const out = join(dir, 'figures.json');
    const r = await run(python, [join(workers, 'bench_analyzer_accuracy.py'), '--json', out], {
      cwd: workers,
      timeoutMs: options.timeoutMs,
    });
    if (r.code !== 0)
      throw new Error(`bench_analyzer_accuracy.py exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
    // The markdown table and each analyzer's misses, as the script prints them.
    for (const line of r.stdout.trim().split('\n')) options.progress(`  ${line}`);
    return accuracyFigures(parseAccuracyRows(await readFile(out, 'utf8')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
