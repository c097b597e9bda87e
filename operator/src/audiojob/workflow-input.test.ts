import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioJob } from '@switchforge/platform/crd';
import { InputError } from '@switchforge/platform/errors';
import { workflowInput } from './workflow-input.js';

const UID = '0b7c3c2e-0e55-4a7e-9b7e-2f1a4c8d9e10';
const job = (spec: Partial<AudioJob['spec']>): AudioJob => ({
  apiVersion: 'switchforge.io/v1alpha1',
  kind: 'AudioJob',
  metadata: { name: 'track', namespace: 'music', uid: UID },
  spec: { source: { storagePath: 'in/a.wav' }, stages: { analyze: {} }, ...spec },
});

test('a job becomes the workflow input with the defaults the apiserver would apply', () => {
  const input = workflowInput(
    job({ stages: { separate: { stems: 'two-stem', twoStem: 'vocals' }, analyze: {} } }),
  );
  assert.deepEqual(input, {
    jobUid: UID,
    namespace: 'music',
    name: 'track',
    source: { storagePath: 'in/a.wav' },
    separate: { model: 'htdemucs', stems: 'vocals', shifts: 1, device: 'auto' },
    analyze: { features: ['tempo', 'key', 'loudness', 'spectral', 'onsets', 'energy'] },
    outputPrefix: `namespaces/music/jobs/${UID}`,
    timeouts: { downloadMs: 600_000, separateMs: 3_600_000, analyzeMs: 900_000, heartbeatMs: 30_000 },
  });
});

test('output.prefix and timeouts from the spec are used, the prefix inside the job folder of its namespace', () => {
  const input = workflowInput(
    job({ output: { prefix: 'albums/x/' }, timeouts: { download: '90s', analyze: '1m30s' } }),
  );
  assert.equal(input.outputPrefix, `namespaces/music/jobs/${UID}/albums/x`);
  assert.equal(input.timeouts.downloadMs, 90_000);
  assert.equal(input.timeouts.analyzeMs, 90_000);
  assert.equal(input.separate, undefined);
});

const invalid: Array<[string, Partial<AudioJob['spec']>]> = [
  ['no source', { source: {} }],
  ['two sources', { source: { url: 'https://a.test/x.wav', storagePath: 'x.wav' } }],
  ['a malformed timeout', { timeouts: { download: 'soon' as never } }],
];
for (const [what, spec] of invalid) {
  test(`a spec with ${what} is an InputError with reason InvalidSpec`, () => {
    assert.throws(
      () => workflowInput(job(spec)),
      (e: unknown) => e instanceof InputError && e.reason === 'InvalidSpec',
    );
  });
}
