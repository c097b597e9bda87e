import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioJob, AudioJobStatus } from '@switchforge/platform/crd';
import { computeAudioJobStatus, overallPercent, statusChanged, type JobObservation } from './job-status.js';
import { stagesOf } from './workflow-input.js';

const now = new Date('2025-03-01T10:00:30Z');
const started = new Date('2025-03-01T10:00:00Z');
const UID = '0b7c3c2e-0e55-4a7e-9b7e-2f1a4c8d9e10';

function job(status?: AudioJobStatus, spec: Partial<AudioJob['spec']> = {}): AudioJob {
  return {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'AudioJob',
    metadata: { name: 'track', namespace: 'music', uid: UID, generation: 2 },
    spec: { source: { url: 'https://example.test/a.wav' }, stages: { separate: {}, analyze: {} }, ...spec },
    ...(status ? { status } : {}),
  };
}

const cond = (s: AudioJobStatus, type: string) => s.conditions?.find((c) => c.type === type);
const compute = (j: AudioJob, o: JobObservation) => computeAudioJobStatus(j, o, stagesOf(j), now);

describe('AudioJob status from its workflow', () => {
  test('a workflow not yet answering its query leaves the job Pending with the workflow id', () => {
    const { status, transitions } = compute(job(), { state: 'Running', startTime: started });
    assert.equal(status.phase, 'Pending');
    assert.equal(status.workflowId, `audiojob-${UID}`);
    assert.equal(status.startTime, '2025-03-01T10:00:00Z');
    assert.equal(status.observedGeneration, 2);
    assert.equal(cond(status, 'Progressing')?.reason, 'Pending');
    assert.deepEqual(
      transitions.map((t) => t.reason),
      ['Pending'],
    );
  });

  test('a running stage becomes phase Running with progress over all stages', () => {
    const { status, transitions } = compute(job({ phase: 'Pending' }), {
      state: 'Running',
      startTime: started,
      progress: { phase: 'Running', stage: 'separate', percent: 50 },
    });
    assert.equal(status.phase, 'Running');
    assert.equal(status.stage, 'separate');
    assert.equal(status.progress, 50); // half of the second of three stages
    assert.equal(cond(status, 'Progressing')?.status, 'True');
    assert.deepEqual(
      transitions.map((t) => t.reason),
      ['Running'],
    );
  });

  test('progress never goes backwards while Running (a retried stage restarts at 0)', () => {
    const { status } = compute(job({ phase: 'Running', stage: 'separate', progress: 60 }), {
      state: 'Running',
      startTime: started,
      progress: { phase: 'Running', stage: 'separate', percent: 0 },
    });
    assert.equal(status.progress, 60);
  });

  test('a completed workflow gives Succeeded, 100 %, a completion time and the results summary', () => {
    const { status, transitions } = compute(job({ phase: 'Running', stage: 'analyze', progress: 90 }), {
      state: 'Succeeded',
      startTime: started,
      closeTime: now,
      result: {
        jobUid: UID,
        input: { inputPath: `jobs/${UID}/input/source.wav`, bytes: 10, sha256: 'ab' },
        separation: {
          stems: { vocals: 'v.wav', bass: 'b.wav' },
          model: 'htdemucs',
          device: 'cpu',
          sampleRate: 44100,
        },
        analysis: {
          durationS: 3.5,
          tempo: { bpm: 124.004, confidence: 0.9 },
          key: { tonic: 'A', mode: 'minor', label: 'A minor', confidence: 0.7 },
          loudnessLufs: -9.5,
        },
      },
    });
    assert.equal(status.phase, 'Succeeded');
    assert.equal(status.progress, 100);
    assert.equal(status.completionTime, '2025-03-01T10:00:30Z');
    assert.deepEqual(status.results, {
      bpm: 124,
      key: 'A minor',
      loudness: -9.5,
      durationSeconds: 3.5,
      stems: [
        { name: 'bass', path: 'b.wav' },
        { name: 'vocals', path: 'v.wav' },
      ],
    });
    assert.equal(cond(status, 'Succeeded')?.status, 'True');
    assert.equal(cond(status, 'Progressing')?.status, 'False');
    assert.deepEqual(
      transitions.map((t) => [t.reason, t.warning]),
      [['Succeeded', false]],
    );
  });

  const failures: Array<[string, JobObservation, string, string | undefined]> = [
    [
      'a corrupt file',
      {
        state: 'Failed',
        startTime: started,
        failure: { stage: 'analyze', reason: 'CorruptAudio', message: 'bad frame' },
      },
      'CorruptAudio',
      'analyze',
    ],
    [
      'a missing source',
      {
        state: 'Failed',
        startTime: started,
        failure: { stage: 'download', reason: 'SourceNotFound', message: '404' },
      },
      'SourceNotFound',
      'download',
    ],
    [
      'a terminated workflow',
      {
        state: 'Failed',
        startTime: started,
        failure: { stage: 'finalize', reason: 'WorkflowTerminated', message: 'x' },
      },
      'WorkflowTerminated',
      undefined,
    ],
    [
      'a spec that cannot run',
      { state: 'Invalid', reason: 'InvalidSpec', message: 'no source' },
      'InvalidSpec',
      undefined,
    ],
    ['a workflow Temporal lost', { state: 'Lost' }, 'WorkflowLost', undefined],
  ];
  for (const [what, observed, reason, stage] of failures) {
    test(`${what} fails the job with reason ${reason} in its conditions and a Warning event`, () => {
      const { status, transitions } = compute(job({ phase: 'Running', workflowId: 'w' }), observed);
      assert.equal(status.phase, 'Failed');
      assert.equal(status.stage, stage);
      assert.equal(cond(status, 'Failed')?.status, 'True');
      assert.equal(cond(status, 'Failed')?.reason, reason);
      assert.equal(cond(status, 'Succeeded')?.reason, reason);
      assert.ok(status.completionTime);
      assert.deepEqual(
        transitions.map((t) => [t.reason, t.warning]),
        [[reason, true]],
      );
    });
  }

  test('cancel requested on a running job keeps it Running with reason Cancelling until the workflow closes', () => {
    const running = job({ phase: 'Running', stage: 'download', progress: 10 }, { cancel: true });
    const { status, transitions } = compute(running, {
      state: 'Running',
      startTime: started,
      progress: { phase: 'Running', stage: 'download', percent: 40 },
    });
    assert.equal(status.phase, 'Running');
    assert.equal(cond(status, 'Progressing')?.reason, 'Cancelling');
    assert.deepEqual(
      transitions.map((t) => t.reason),
      ['Cancelling'],
    );
    const closed = compute(running, { state: 'Cancelled', startTime: started, closeTime: now }).status;
    assert.equal(closed.phase, 'Cancelled');
    assert.equal(cond(closed, 'Progressing')?.reason, 'Cancelled');
  });

  test('a job cancelled before its workflow started ends Cancelled without one', () => {
    const { status } = compute(job(undefined, { cancel: true }), { state: 'NotFound' });
    assert.equal(status.phase, 'Cancelled');
    assert.ok(status.completionTime);
  });

  test('computing again from the same observation changes nothing (no status write, no event)', () => {
    const observed: JobObservation = {
      state: 'Running',
      startTime: started,
      progress: { phase: 'Running', stage: 'download', percent: 30 },
    };
    const first = compute(job(), observed).status;
    const again = computeAudioJobStatus(
      job(first),
      observed,
      ['download', 'separate', 'analyze'],
      new Date(now.getTime() + 5000),
    );
    assert.equal(statusChanged(first, again.status), false);
    assert.deepEqual(again.transitions, []);
  });
});

test('overall progress spreads stages evenly and reaches 100 only when the job is done', () => {
  const cases: Array<[Parameters<typeof overallPercent>, number]> = [
    [[['download'], 'download', 0], 0],
    [[['download'], 'download', 100], 99],
    [[['download', 'analyze'], 'analyze', 50], 75],
    [[['download', 'separate', 'analyze'], 'download', 100], 33],
    [[['download', 'separate', 'analyze'], 'analyze', 150], 99],
  ];
  for (const [args, expected] of cases) assert.equal(overallPercent(...args), expected, JSON.stringify(args));
});
