import { spawn } from 'node:child_process';
import { SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import {
  AUDIO_INPUT_CODES,
  AudioInputError,
  PythonAbortedError,
  PythonProcessError,
  PythonTimeoutError,
} from './errors.js';
import type { AudioInputCode } from './errors.js';
import { JsonLinesDecoder, parseLine } from './json-lines.js';
import type { JsonLine } from './json-lines.js';
import { parseSpanLine, recordPythonSpan } from './python-spans.js';

export interface PythonProgress {
  readonly percent: number;
  readonly message?: string;
}

export interface PythonRunOptions {
  /** The interpreter (the venv's python). */
  readonly pythonPath: string;
  /** Working directory; `python-workers/` so the package imports. */
  readonly cwd: string;
  /** Module run with `-m`, e.g. `switchforge_audio.analyzer`. */
  readonly module: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL. */
  readonly killGraceMs?: number;
  readonly maxStderrBytes?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly onProgress?: (p: PythonProgress) => void;
}

export interface PythonRunResult {
  /** The one `{"type":"result"}` line, as printed. */
  readonly result: Record<string, unknown>;
  /** Lines on stdout that were not contract JSON (warnings, banners). */
  readonly noiseLines: number;
  readonly durationMs: number;
}

const tracer = trace.getTracer('switchforge-audio-worker');

const DEFAULT_KILL_GRACE_MS = 2_000;
const DEFAULT_MAX_STDERR_BYTES = 64 * 1024;
/** The contract's exit status for bad input. */
const EXIT_BAD_INPUT = 2;

/**
 * Runs one Python stage script and resolves with its result line. The script runs in its own
 * process group so a timeout or an abort stops it and anything it forked (SIGTERM, then SIGKILL).
 * Rejects with AudioInputError (exit 2 + error JSON), PythonTimeoutError, PythonAbortedError or
 * PythonProcessError (anything else).
 *
 * The run is a span (`python <module>`, a child of the active one) whose context the script gets
 * as TRACEPARENT; the span lines it prints become that span's children.
 */
export function runPythonModule(opts: PythonRunOptions): Promise<PythonRunResult> {
  if (opts.signal?.aborted) return Promise.reject(new PythonAbortedError());
  const span = tracer.startSpan(`python ${opts.module}`, { attributes: { 'code.namespace': opts.module } });
  const traced = trace.setSpan(context.active(), span);
  return runTraced(opts, span, traced).then(
    (r) => {
      span.end();
      return r;
    },
    (e: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      span.end();
      throw e;
    },
  );
}

function runTraced(opts: PythonRunOptions, span: Span, traced: Context): Promise<PythonRunResult> {
  const started = Date.now();
  const grace = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const maxStderr = opts.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES;

  return new Promise<PythonRunResult>((resolve, reject) => {
    const child = spawn(opts.pythonPath, ['-m', opts.module, ...opts.args], {
      cwd: opts.cwd,
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...traceEnv(traced), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid !== undefined) span.setAttribute('process.pid', child.pid);
    const decoder = new JsonLinesDecoder();
    let result: Record<string, unknown> | undefined;
    let noiseLines = 0;
    let stderr = Buffer.alloc(0);
    let stopReason: 'timeout' | 'abort' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const handle = (lines: JsonLine[]): void => {
      for (const line of lines) {
        if (line.kind === 'noise') {
          noiseLines++;
          continue;
        }
        const v = line.value;
        if (v.type === 'result') result = v;
        else if (v.type === 'span') {
          const spanLine = parseSpanLine(v);
          if (spanLine) recordPythonSpan(tracer, spanLine, traced);
          else noiseLines++;
        } else if (v.type === 'progress' && typeof v.percent === 'number') {
          const message = typeof v.message === 'string' ? v.message : undefined;
          try {
            opts.onProgress?.({
              percent: clampPercent(v.percent),
              ...(message !== undefined ? { message } : {}),
            });
          } catch {
            // A failing progress consumer must not take the run down with it.
          }
        } else noiseLines++;
      }
    };

    const stop = (why: 'timeout' | 'abort'): void => {
      if (stopReason !== undefined || settled) return;
      stopReason = why;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), grace);
      killTimer.unref();
    };
    const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
    const onAbort = (): void => stop('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => handle(decoder.push(chunk)));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > maxStderr) stderr = stderr.subarray(stderr.length - maxStderr);
    });

    const finish = (err: Error | undefined, value?: PythonRunResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (stopReason !== undefined) killGroup(child.pid, 'SIGKILL'); // leftovers of the group
      if (err) reject(err);
      else resolve(value as PythonRunResult);
    };

    child.on('error', (e) =>
      finish(
        new PythonProcessError(
          `cannot start ${opts.pythonPath}: ${e.message}`,
          null,
          '',
          'PythonSpawnFailed',
        ),
      ),
    );
    child.on('close', (code, sig) => {
      handle(decoder.end());
      if (code !== null) span.setAttribute('process.exit.code', code);
      const durationMs = Date.now() - started;
      const tail = stderr.toString('utf8');
      if (stopReason === 'abort') return finish(new PythonAbortedError(`${opts.module} stopped: aborted`));
      if (stopReason === 'timeout') {
        return finish(
          new PythonTimeoutError(`${opts.module} ran past its ${opts.timeoutMs} ms timeout and was killed`),
        );
      }
      if (code === 0) {
        if (result) return finish(undefined, { result, noiseLines, durationMs });
        return finish(
          new PythonProcessError(`${opts.module} exited 0 without a result line`, 0, tail, 'PythonNoResult'),
        );
      }
      if (code === EXIT_BAD_INPUT) {
        const inputError = inputErrorFrom(tail);
        if (inputError) return finish(inputError);
      }
      const what = code === null ? `was killed by ${sig ?? 'a signal'}` : `exited ${code}`;
      finish(new PythonProcessError(`${opts.module} ${what}: ${lastLines(tail, 3)}`, code, tail));
    });
  });
}

/** The contract's stderr error line (the last JSON line with `type: "error"`), if any. */
export function inputErrorFrom(stderr: string): AudioInputError | undefined {
  const lines = stderr.split('\n').reverse();
  for (const raw of lines) {
    const line = parseLine(raw);
    if (line.kind !== 'json' || line.value.type !== 'error') continue;
    const { code, message } = line.value;
    if (typeof code === 'string' && (AUDIO_INPUT_CODES as readonly string[]).includes(code)) {
      return new AudioInputError(code as AudioInputCode, typeof message === 'string' ? message : code);
    }
    return undefined;
  }
  return undefined;
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function clampPercent(p: number): number {
  return Number.isFinite(p) ? Math.min(100, Math.max(0, p)) : 0;
}

function lastLines(s: string, n: number): string {
  return s.trimEnd().split('\n').slice(-n).join(' | ') || '(no stderr)';
}

/** W3C trace context for the child (TRACEPARENT, TRACESTATE): it prints span lines only when traced. */
function traceEnv(ctx: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier, {
    set: (c, k, v) => {
      c[k.toUpperCase()] = v;
    },
  });
  return carrier;
}
