/**
 * Demucs separation speed (python-workers/bench_separator.py): real-time factor per device and
 * model, the separation alone and the whole separator process the audio worker spawns. On a
 * machine with CUDA it times the GPU and the CPU; elsewhere the CPU only.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';
import { ensureVenvPython } from '../audio/venv-python.js';
import { formatSeconds, type Figure } from './figures.js';

export interface SeparatorFigure {
  device: string;
  gpu: string | null;
  model: string;
  parameters: number;
  audioSeconds: number;
  separationSeconds: number;
  cliSeconds: number;
}

function field<T>(row: Record<string, unknown>, key: string, is: (v: unknown) => v is T): T {
  const value = row[key];
  if (!is(value)) throw new Error(`bench_separator.py figures: "${key}" is missing or has the wrong type`);
  return value;
}
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isGpu = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** Reads the JSON file bench_separator.py writes with `--json`. */
export function parseSeparatorFigures(text: string): SeparatorFigure[] {
  const rows: unknown = JSON.parse(text);
  if (!Array.isArray(rows) || rows.length === 0)
    throw new Error('bench_separator.py figures: expected a non-empty list');
  return rows.map((raw) => {
    if (typeof raw !== 'object' || raw === null)
      throw new Error('bench_separator.py figures: expected objects');
    const row = raw as Record<string, unknown>;
    return {
      device: field(row, 'device', isString),
      gpu: field(row, 'gpu', isGpu),
      model: field(row, 'model', isString),
      parameters: field(row, 'parameters', isNumber),
      audioSeconds: field(row, 'audio_seconds', isNumber),
      separationSeconds: field(row, 'separation_seconds', isNumber),
      cliSeconds: field(row, 'cli_seconds', isNumber),
    };
  });
}

export function separatorFigures(rows: readonly SeparatorFigure[]): Figure[] {
  return rows.map((r) => {
    const where = r.gpu ?? r.device;
    const rtf = r.separationSeconds / r.audioSeconds;
    return {
      benchmark: 'separator',
      figure: `Demucs ${r.model} (${(r.parameters / 1e6).toFixed(1)}M params) on ${where}, ${r.audioSeconds} s of audio`,
      value: `RTF ${rtf.toFixed(4)} (${(1 / rtf).toFixed(1)}x real time)`,
      comparison: `separation ${formatSeconds(r.separationSeconds)}; whole separator process ${formatSeconds(r.cliSeconds)} (RTF ${(r.cliSeconds / r.audioSeconds).toFixed(4)})`,
    };
  });
}

export async function runSeparatorBenchmark(options: {
  seconds: number;
  timeoutMs: number;
}): Promise<Figure[]> {
  const python = await ensureVenvPython(options.timeoutMs);
  const dir = await mkdtemp(join(tmpdir(), 'switchforge-separator-bench-'));
  try {
    const out = join(dir, 'figures.json');
    const r = await run(
      python,
      [
        join(repoRoot, 'python-workers/bench_separator.py'),
        '--seconds',
        String(options.seconds),
        '--repeat',
        '1',
        '--json',
        out,
      ],
      { cwd: join(repoRoot, 'python-workers'), timeoutMs: options.timeoutMs },
    );
    if (r.code !== 0)
      throw new Error(`bench_separator.py exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
    return separatorFigures(parseSeparatorFigures(await readFile(out, 'utf8')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
