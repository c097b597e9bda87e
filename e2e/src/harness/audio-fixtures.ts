/**
 * What an AudioJob needs on this machine: the python-workers venv (built by
 * python-workers/setup.sh, never here), a Demucs model that loads offline, and an HTTP server
 * for the track.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { synthWav } from '../audio/synth-wav.js';

/** The venv python-workers/setup.sh builds, and the folder its scripts run in. */
export { readyVenvPython, pythonWorkers as pythonWorkersDir } from '../audio/venv-python.js';

/** Demucs' checkpoint file of `htdemucs` (its remote repo names files `<sig>-<sha256 prefix>.th`). */
const HTDEMUCS_CHECKPOINT = '955717e8-8726e21a.th';

/**
 * A torch cache (TORCH_HOME) in which `htdemucs` is Demucs' own untrained `demucs_unittest`
 * model: the AudioJob schema allows pretrained names only, the real weights cannot be downloaded
 * here, and the tiny model separates in seconds. Demucs verifies a checkpoint's hash only when it
 * downloads one, so a cached file loads as is. Returns the environment an image would bake in.
 */
export async function offlineTinyModels(python: string, dir: string): Promise<Record<string, string>> {
  const checkpoints = join(dir, 'hub', 'checkpoints');
  mkdirSync(checkpoints, { recursive: true });
  const file = join(checkpoints, HTDEMUCS_CHECKPOINT);
  const script = [
    'import sys, torch',
    'from demucs.pretrained import demucs_unittest',
    'm = demucs_unittest()',
    'args, kwargs = m._init_args_kwargs',
    "torch.save({'klass': m.__class__, 'args': args, 'kwargs': kwargs, 'state': m.state_dict()}, sys.argv[1])",
  ].join('\n');
  if (!existsSync(file)) await promisify(execFile)(python, ['-c', script, file], { timeout: 180_000 });
  // Offline: no lookup on the Hugging Face hub before Demucs falls back to its bundled model list.
  return { TORCH_HOME: dir, HF_HUB_OFFLINE: '1' };
}

export interface WavServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `seconds` of synthesized WAV (a tone with clicks at 120 BPM) at `<url>`, on 127.0.0.1. */
export async function serveWav(seconds: number): Promise<WavServer> {
  const wav = synthWav(seconds);
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
    res.end(wav);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/track.wav`,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
