import { isDeepStrictEqual } from 'node:util';
import {
  AudioJobConditionType,
  formatTime,
  setConditionAt,
  type AudioJob,
  type AudioJobPhase,
  type AudioJobResults,
  type AudioJobStatus,
  type Condition,
} from '@switchforge/platform/crd';
import { workflowIdForJob } from '@switchforge/platform/audio/workflow-id';
import type { AudioJobResult, AudioStage, JobFailure } from '@switchforge/platform/audio/types';
import type { WorkflowState } from './workflow-state.js';

/** What the reconciler observed, in the terms the status needs. */
export type JobObservation =
  | WorkflowState
  /** The spec cannot become a workflow (the schema should have refused it). */
  | { state: 'Invalid'; reason: string; message: string }
  /** We had started a workflow, and Temporal no longer knows it (retention, a wiped server). */
  | { state: 'Lost' };

export interface StatusTransition {
  reason: string;
  message: string;
  warning: boolean;
}

/**
 * The AudioJob status the observation implies. Pure: the reconciler writes it only when it differs
 * from the current one, and each transition becomes an Event.
 */
export function computeAudioJobStatus(
  job: AudioJob,
  observed: JobObservation,
  stages: readonly AudioStage[],
  now: Date,
): { status: AudioJobStatus; transitions: StatusTransition[] } {
  const previous = job.status ?? {};
  const generation = job.metadata.generation;
  const cancelRequested = job.spec.cancel === true;
  let conditions: Condition[] = previous.conditions ?? [];
  const set = (type: string, status: 'True' | 'False', reason: string, message: string) => {
    conditions = setConditionAt(conditions, generation, { type, status, reason, message }, now);
  };

  let phase: AudioJobPhase;
  let stage = previous.stage;
  let progress = previous.progress ?? 0;
  let results: AudioJobResults | undefined = previous.results;
  let failure: JobFailure | undefined;
  let startTime = previous.startTime;
  let completionTime = previous.completionTime;
  const closedAt = (t?: Date) => completionTime ?? formatTime(t ?? now);

  switch (observed.state) {
    case 'NotFound':
      // Nothing started yet: a job cancelled before its workflow began ends here.
      phase = cancelRequested ? 'Cancelled' : 'Pending';
      if (cancelRequested) completionTime = closedAt();
      break;
    case 'Running': {
      startTime ??= formatTime(observed.startTime);
      const p = observed.progress;
      if (p?.phase === 'Running' && p.stage) {
        phase = 'Running';
        stage = p.stage;
        progress = Math.max(
          previous.phase === 'Running' ? progress : 0,
          overallPercent(stages, p.stage, p.percent),
        );
      } else phase = previous.phase === 'Running' ? 'Running' : 'Pending';
      break;
    }
    case 'Succeeded':
      phase = 'Succeeded';
      startTime ??= formatTime(observed.startTime);
      completionTime = closedAt(observed.closeTime);
      progress = 100;
      stage = stages[stages.length - 1];
      results = summarize(observed.result);
      break;
    case 'Failed':
      phase = 'Failed';
      startTime ??= formatTime(observed.startTime);
      completionTime = closedAt(observed.closeTime);
      failure = observed.failure;
      if (failure.stage !== 'finalize') stage = failure.stage;
      break;
    case 'Cancelled':
      phase = 'Cancelled';
      startTime ??= formatTime(observed.startTime);
      completionTime = closedAt(observed.closeTime);
      break;
    case 'Invalid':
      phase = 'Failed';
      completionTime = closedAt();
      failure = { stage: 'finalize', reason: observed.reason, message: observed.message };
      break;
    case 'Lost':
      phase = previous.phase === 'Succeeded' || previous.phase === 'Cancelled' ? previous.phase : 'Failed';
      completionTime = closedAt();
      if (phase === 'Failed')
        failure = failure ?? {
          stage: 'finalize',
          reason: 'WorkflowLost',
          message: 'Temporal no longer knows the workflow',
        };
      break;
  }

  const cancelling = cancelRequested && (phase === 'Running' || phase === 'Pending');
  switch (phase) {
    case 'Pending':
    case 'Running': {
      const reason = cancelling ? 'Cancelling' : phase === 'Pending' ? 'Pending' : 'StageRunning';
      const message = cancelling
        ? 'cancellation requested; waiting for the workflow to stop'
        : phase === 'Pending'
          ? 'waiting for an audio worker'
          : `${stage ?? 'download'} running, ${progress}% overall`;
      set(AudioJobConditionType.Progressing, 'True', reason, message);
      set(AudioJobConditionType.Succeeded, 'False', 'NotFinished', '');
      set(AudioJobConditionType.Failed, 'False', 'NotFinished', '');
      break;
    }
    case 'Succeeded':
      set(AudioJobConditionType.Progressing, 'False', 'Succeeded', '');
      set(AudioJobConditionType.Succeeded, 'True', 'Succeeded', describeResults(results));
      set(AudioJobConditionType.Failed, 'False', 'Succeeded', '');
      break;
    case 'Failed': {
      const f = failure ?? { stage: 'finalize', reason: 'WorkflowFailed', message: '' };
      const where = f.stage === 'finalize' ? '' : `${f.stage}: `;
      set(AudioJobConditionType.Progressing, 'False', f.reason, '');
      set(AudioJobConditionType.Succeeded, 'False', f.reason, '');
      set(AudioJobConditionType.Failed, 'True', f.reason, `${where}${f.message}`);
      break;
    }
    case 'Cancelled':
      set(AudioJobConditionType.Progressing, 'False', 'Cancelled', 'the job was cancelled');
      set(AudioJobConditionType.Succeeded, 'False', 'Cancelled', '');
      set(AudioJobConditionType.Failed, 'False', 'Cancelled', '');
      break;
  }

  const status: AudioJobStatus = {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    phase,
    ...(stage ? { stage } : {}),
    progress: Math.round(progress),
    ...(observed.state === 'Invalid' || !job.metadata.uid
      ? {}
      : { workflowId: workflowIdForJob(job.metadata.uid) }),
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    ...(results ? { results } : {}),
    conditions,
  };

  const transitions: StatusTransition[] = [];
  if (phase !== previous.phase) {
    const c = conditions.find((x) => x.type === (phase === 'Failed' ? 'Failed' : 'Progressing'));
    transitions.push({
      reason: phase === 'Failed' ? (failure?.reason ?? 'Failed') : phase,
      message: c?.message || `phase ${phase}`,
      warning: phase === 'Failed',
    });
  } else if (phase === 'Running' && stage !== previous.stage && stage) {
    transitions.push({ reason: 'StageStarted', message: `${stage} started`, warning: false });
  }
  if (cancelling && previous.conditions?.find((c) => c.type === 'Progressing')?.reason !== 'Cancelling') {
    transitions.push({ reason: 'Cancelling', message: 'cancellation requested', warning: false });
  }
  return { status, transitions };
}

/** Percent over all stages: each stage an equal share. */
export function overallPercent(stages: readonly AudioStage[], stage: AudioStage, percent: number): number {
  const i = Math.max(0, stages.indexOf(stage));
  const within = Math.max(0, Math.min(100, percent)) / 100;
  // 100 is for a finished job only, never for the last stage's last report.
  return Math.min(99, Math.floor(((i + within) / Math.max(1, stages.length)) * 100));
}

export function summarize(r: AudioJobResult): AudioJobResults {
  const a = r.analysis;
  const files = new Map((r.separation?.files ?? []).map((f) => [f.name, f]));
  const stems = Object.entries(r.separation?.stems ?? {})
    .map(([name, path]) => {
      const f = files.get(name);
      return f
        ? {
            name,
            path,
            format: f.format,
            contentType: f.contentType,
            bytes: f.bytes,
            durationSeconds: round(f.durationS, 3),
            sha256: f.sha256,
          }
        : { name, path };
    })
    .sort((x, y) => x.name.localeCompare(y.name));
  return {
    ...(a?.tempo ? { bpm: round(a.tempo.bpm, 2) } : {}),
    ...(a?.key ? { key: a.key.label } : {}),
    ...(a?.loudnessLufs !== undefined ? { loudness: round(a.loudnessLufs, 2) } : {}),
    ...(a ? { durationSeconds: round(a.durationS, 3) } : {}),
    ...(stems.length > 0 ? { stems } : {}),
  };
}

function describeResults(r: AudioJobResults | undefined): string {
  const parts = [
    r?.bpm !== undefined ? `${r.bpm} BPM` : '',
    r?.key ?? '',
    r?.loudness !== undefined ? `${r.loudness} LUFS` : '',
    r?.stems ? `${r.stems.length} stems` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'done';
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function statusChanged(current: AudioJobStatus | undefined, next: AudioJobStatus): boolean {
  return !isDeepStrictEqual(current ?? {}, next);
}
