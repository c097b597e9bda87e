import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process the benchmark started, with its output in a log file and a bounded stop. */
export interface BenchProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the first stdout line that `match` accepts (rejects if the process exits first). */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// A benchmark that fails halfway must not leave a worker or a simulator behind.
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export function startProcess(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
): BenchProcess {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  running.add(child);
  const exited = once(child, 'exit').then(() => void running.delete(child));
  const log = createWriteStream(options.logFile);
  const listeners = new Set<(line: string) => void>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    log.write(chunk);
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) for (const l of listeners) l(line);
  });
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  child.on('exit', () => log.end());

  return {
    pid: child.pid,
    child,
    logFile: options.logFile,
    waitForLine: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            finish(
              new Error(`${command}: no matching output within ${timeoutMs} ms (log: ${options.logFile})`),
            ),
          timeoutMs,
        );
        const onExit = () =>
          finish(
            new Error(
              `${command} exited (code ${child.exitCode}) before it was ready (log: ${options.logFile})`,
            ),
          );
        const onLine = (line: string) => {
          if (match(line)) finish(undefined, line);
        };
        function finish(error: Error | undefined, line?: string) {
          clearTimeout(timer);
          listeners.delete(onLine);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve(line!);
        }
        listeners.add(onLine);
        child.once('exit', onExit);
      }),
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = sleep(graceMs, undefined, { ref: false }).then(() => child.kill('SIGKILL'));
      await Promise.race([exited, killed]);
      await exited;
    },
  };
}
