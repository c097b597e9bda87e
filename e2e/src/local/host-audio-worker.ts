/**
 * The audio worker of `npm run up`, on this machine instead of in a pod (the audio image is not
 * built here: README, images): the same entry point the image runs, serving the release's
 * Temporal queues, writing to the folder the cluster mounts as its audio volume.
 */
import { IMAGE_COMMANDS } from '@switchforge/platform/image-layout';
import { repoRoot } from '@switchforge/testkit/paths';
import { pythonWorkers } from '../audio/venv-python.js';
import { localCommand } from '../infra/local-command.js';

export interface HostAudioWorkerSettings {
  databaseUrl: string;
  temporal: { address: string; namespace: string };
  queuePrefix: string;
  storageRoot: string;
  modelRepo: string;
  python: string;
  metricsPort: number;
}

/** The command, run through a shell that sets umask 000: the pods' user deletes what it writes. */
export function hostAudioWorkerCommand(): [string, string[]] {
  const command = localCommand(IMAGE_COMMANDS.audioWorker, repoRoot);
  const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['bash', ['-c', `umask 000 && exec ${quoted}`]];
}

export function hostAudioWorkerEnv(s: HostAudioWorkerSettings): Record<string, string> {
  return {
    SWITCHFORGE_DATABASE_URL: s.databaseUrl,
    SWITCHFORGE_METRICS_PORT: String(s.metricsPort),
    POD_IP: '127.0.0.1',
    TEMPORAL_ADDRESS: s.temporal.address,
    TEMPORAL_NAMESPACE: s.temporal.namespace,
    AUDIO_QUEUE_PREFIX: s.queuePrefix,
    AUDIO_STORAGE_ROOT: s.storageRoot,
    AUDIO_MODEL_REPO: s.modelRepo,
    AUDIO_PYTHON: s.python,
    AUDIO_PYTHON_CWD: pythonWorkers,
    // The lab's media server is on loopback, which sources may not reach by default.
    AUDIO_SOURCE_ALLOW_CIDRS: '127.0.0.1/32',
  };
}
