/**
 * The helm release `npm run up` installs: the chart of this repository with a values file such as
 * a user writes for their own cluster (the database Secret, where Temporal is, the audio volume),
 * the images already on the nodes (imported, never pulled).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binary } from '@switchforge/testkit/paths';
import { run } from '@switchforge/testkit/processes';
import { chartDir } from '../chart/helm.js';
import { AUDIO_CLAIM } from './audio-storage.js';

export const RELEASE = 'switchforge';
/** The chart's object-name prefix for this release ("<release>-switchforge", shortened). */
export const FULLNAME = 'switchforge';
export const DATABASE_SECRET = 'switchforge-db';
/** Where the chart's pods mount the audio volume. */
const STORAGE_ROOT = '/var/lib/switchforge/audio';

export interface ReleaseSettings {
  temporal: { address: string; namespace: string };
  /** Queue prefix the host's audio workers serve too. */
  queuePrefix: string;
}

export function releaseValues(s: ReleaseSettings): Record<string, unknown> {
  return {
    image: { pullPolicy: 'Never' },
    database: { existingSecret: DATABASE_SECRET },
    temporal: s.temporal,
    audio: {
      queuePrefix: s.queuePrefix,
      storageRoot: STORAGE_ROOT,
      storageClaim: AUDIO_CLAIM,
      // The audio image (torch) is not built here (README: images): the audio workers run on the
      // host and serve the same Temporal queues; the operator runs the AudioJob controller.
      pool: { enabled: false },
      worker: { modelRepo: `${STORAGE_ROOT}/models` },
    },
    discovery: { enabled: true },
  };
}

/** `helm upgrade --install --wait`: a second `npm run up` upgrades the release in place. */
export async function installRelease(
  kubeconfig: string,
  namespace: string,
  values: Record<string, unknown>,
  stateDir: string,
): Promise<void> {
  const file = join(stateDir, 'values.json');
  writeFileSync(file, JSON.stringify(values, null, 2));
  const r = await run(
    binary('helm'),
    [
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      namespace,
      'upgrade',
      '--install',
      RELEASE,
      chartDir,
      '-f',
      file,
      '--wait',
      '--timeout',
      '5m',
    ],
    { timeoutMs: 360_000 },
  );
  if (r.code !== 0) throw new Error(`helm upgrade --install ${RELEASE}: ${r.stderr || r.stdout}`);
}
