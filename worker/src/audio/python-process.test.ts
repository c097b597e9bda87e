import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPythonModule } from './python-process.js';
import type { PythonProgress } from './python-process.js';
import { AudioInputError, PythonAbortedError, PythonProcessError, PythonTimeoutError } from './errors.js';

/** Small real scripts, each proving one part of the contract. */
const SCRIPTS: Record<string, string> = {
  partial_lines: `
import sys, time, json
w = sys.stdout.write
w('{"type":"progress","per'); sys.stdout.flush(); time.sleep(0.05)
w('cent":40,"message":"half"}\\n{"type":"progr'); sys.stdout.flush(); time.sleep(0.05)
w('ess","percent":90}\\n'); sys.stdout.flush()
print(json.dumps({"type":"result","value":42}), end='')
`,
  noisy: `
import sys, json
print("Warning: librosa is old")
print("{not json at all")
print("[1,2,3]")
print(json.dumps({"type":"progress","percent":10}))
print(json.dumps({"type":"result","ok":True}))
print("done.")
`,
  bad_input: `
import sys, json
print(json.dumps({"type":"progress","percent":5}))
sys.stderr.write("some log line\\n")
sys.stderr.write(json.dumps({"type":"error","code":"CorruptAudio","message":"header checksum failed"}) + "\\n")
sys.exit(2)
`,
  crash: `
import sys
sys.stderr.write("x" * 200000)
sys.stderr.write("\\nTraceback (most recent call last):\\nRuntimeError: boom\\n")
sys.exit(1)
`,
  no_result: `
print("nothing useful")
`,
  sleeper: `
import os, sys, time, json, subprocess
pidfile = sys.argv[1]
# A grandchild too: the whole group must go.
kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()} {kid.pid}")
print(json.dumps({"type":"progress","percent":1}), flush=True)
time.sleep(60)
`,
  stubborn: `
import signal, sys, time, json, os
signal.signal(signal.SIGTERM, lambda *a: None)
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
print(json.dumps({"type":"progress","percent":1}), flush=True)
time.sleep(60)
`,
};

let dir: string;
const run = (module: string, extra: Partial<Parameters<typeof runPythonModule>[0]> = {}) =>
  runPythonModule({ pythonPath: 'python3', cwd: dir, module, args: [], timeoutMs: 10_000, ...extra });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('runPythonModule', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sf-pyproc-'));
    for (const [name, src] of Object.entries(SCRIPTS)) await writeFile(join(dir, `${name}.py`), src);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reassembles JSON lines split across writes and reads a result without a trailing newline', async () => {
    const progress: PythonProgress[] = [];
    const { result } = await run('partial_lines', { onProgress: (p) => progress.push(p) });
    assert.deepEqual(result, { type: 'result', value: 42 });
    assert.deepEqual(progress, [{ percent: 40, message: 'half' }, { percent: 90 }]);
  });

  it('skips and counts noise on stdout instead of failing', async () => {
    const { result, noiseLines } = await run('noisy');
    assert.deepEqual(result, { type: 'result', ok: true });
    assert.equal(noiseLines, 4);
  });

  it('turns exit 2 with an error line on stderr into a non-retryable AudioInputError', async () => {
    const err = await run('bad_input').catch((e: unknown) => e);
    assert.ok(err instanceof AudioInputError, String(err));
    assert.equal(err.code, 'CorruptAudio');
    assert.equal(err.reason, 'CorruptAudio');
    assert.equal(err.retryable, false);
    assert.match(err.message, /header checksum failed/);
  });

  it('turns exit 1 into a retryable PythonProcessError carrying a bounded stderr tail', async () => {
    const err = await run('crash', { maxStderrBytes: 4096 }).catch((e: unknown) => e);
    assert.ok(err instanceof PythonProcessError, String(err));
    assert.equal(err.exitCode, 1);
    assert.equal(err.retryable, true);
    assert.ok(err.stderrTail.length <= 4096);
    assert.match(err.message, /RuntimeError: boom/);
  });

  it('fails a script that exits 0 without a result line', async () => {
    const err = await run('no_result').catch((e: unknown) => e);
    assert.ok(err instanceof PythonProcessError);
    assert.equal(err.reason, 'PythonNoResult');
  });

  it('kills the whole process group when the timeout passes', async () => {
    const pidfile = join(dir, 'timeout.pid');
    const started = Date.now();
    const err = await run('sleeper', { args: [pidfile], timeoutMs: 1_000 }).catch((e: unknown) => e);
    assert.ok(err instanceof PythonTimeoutError, String(err));
    assert.ok(Date.now() - started < 4_000);
    const pids = (await readFile(pidfile, 'utf8')).split(' ').map(Number);
    await waitFor(() => pids.every((p) => !alive(p)), 2_000);
  });

  it('stops a child that ignores SIGTERM within 5 s of an abort', async () => {
    const pidfile = join(dir, 'stubborn.pid');
    const ac = new AbortController();
    const p = run('stubborn', {
      args: [pidfile],
      signal: ac.signal,
      killGraceMs: 1_000,
      onProgress: () => ac.abort(),
    });
    const err = await p.catch((e: unknown) => e);
    const abortedAt = Date.now();
    assert.ok(err instanceof PythonAbortedError, String(err));
    const pid = Number(await readFile(pidfile, 'utf8'));
    await waitFor(() => !alive(pid), 5_000 - (Date.now() - abortedAt));
  });

  it('reports a missing interpreter as a process error', async () => {
    const err = await run('noisy', { pythonPath: join(dir, 'no-such-python') }).catch((e: unknown) => e);
    assert.ok(err instanceof PythonProcessError);
    assert.equal(err.reason, 'PythonSpawnFailed');
  });
});
