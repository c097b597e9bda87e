/**
 * The audio volume of `npm run up`: a folder on this machine that the host's audio workers write
 * and the cluster mounts as a ReadWriteMany PersistentVolume (hostPath: every real node shares
 * the machine's file system), so the API pod serves the stems the workers wrote and the operator
 * removes a deleted job's files. Its `models/` folder is the Demucs model repository (`--repo`):
 * no model is ever downloaded.
 */
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '@switchforge/testkit/processes';
import { pythonWorkers } from '../audio/venv-python.js';

export const AUDIO_CLAIM = 'switchforge-audio';
const VOLUME = 'switchforge-local-audio';
/** The default model of an AudioJob's separate stage. */
export const DEFAULT_MODEL = 'htdemucs';

export function audioVolumeManifests(hostPath: string, namespace: string): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: VOLUME, labels: { 'app.kubernetes.io/part-of': 'switchforge' } },
      spec: {
        capacity: { storage: '20Gi' },
        accessModes: ['ReadWriteMany'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        claimRef: { namespace, name: AUDIO_CLAIM },
        hostPath: { path: hostPath, type: 'Directory' },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: AUDIO_CLAIM, namespace },
      spec: {
        accessModes: ['ReadWriteMany'],
        storageClassName: '',
        volumeName: VOLUME,
        resources: { requests: { storage: '20Gi' } },
      },
    },
  ];
}

/**
 * Creates the volume folder (writable by the images' user: the operator deletes job files as it)
 * and, once, its model repository. The real `htdemucs` weights come from a download this machine
 * cannot make, so the lab's `htdemucs` is Demucs' own untrained test architecture saved under that
 * name: jobs run the whole pipeline offline and fast, but its stems are not a real separation.
 * Put a real `htdemucs-<sha>.th` in the folder to separate for real.
 */
export async function prepareAudioVolume(root: string, python: string): Promise<{ models: string }> {
  const models = join(root, 'models');
  mkdirSync(models, { recursive: true });
  for (const dir of [root, models]) chmodSync(dir, 0o777);
  if (!readdirSync(models).some((f) => f.startsWith(`${DEFAULT_MODEL}-`) && f.endsWith('.th'))) {
    const script = [
      'import sys',
      'from pathlib import Path',
      'from demucs.pretrained import demucs_unittest',
      'from switchforge_audio.model_files import save_model_file',
      `print(save_model_file(demucs_unittest(), Path(sys.argv[1]), ${JSON.stringify(DEFAULT_MODEL)}))`,
    ].join('\n');
    const r = await run(python, ['-c', script, models], { cwd: pythonWorkers, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`writing the lab's Demucs model: ${r.stderr.slice(-2000)}`);
  }
  return { models };
}
