/**
 * The AudioJob custom resource (switchforge.io/v1alpha1): one track to download, separate and
 * analyse in a Temporal workflow. Field names are those of crds/audiojob.yaml;
 * schema-sync.test.ts holds the two together.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition } from './conditions.js';
import type { DurationString } from './device.js';

/** Exactly one field is set (the schema enforces it). */
export interface AudioSource {
  /** http:// or https:// only. */
  url?: string;
  /** 22 base62 characters. */
  spotifyTrackId?: string;
  /** Relative to the project's storage root; never absolute, never a '..' segment. */
  storagePath?: string;
}

export const DEMUCS_MODELS = [
  'htdemucs',
  'htdemucs_ft',
  'htdemucs_6s',
  'hdemucs_mmi',
  'mdx',
  'mdx_extra',
  'mdx_q',
  'mdx_extra_q',
] as const;
export type DemucsModel = (typeof DEMUCS_MODELS)[number];
export type StemName = 'vocals' | 'drums' | 'bass' | 'other' | 'guitar' | 'piano';
export type SeparationDevice = 'auto' | 'cpu' | 'cuda';

/** Defaults (model htdemucs, stems all, shifts 1, overlap 0.25, device auto) are applied by the apiserver. */
export interface SeparateStage {
  model?: DemucsModel;
  /** all: every stem the model knows; two-stem: `twoStem` and the rest mixed (Demucs --two-stems). */
  stems?: 'all' | 'two-stem';
  twoStem?: StemName;
  /** 0..10. */
  shifts?: number;
  overlap?: number;
  /** Seconds; the model's default when unset. */
  segment?: number;
  device?: SeparationDevice;
}

export const ANALYSIS_FEATURES = ['tempo', 'key', 'loudness', 'spectral', 'onsets', 'energy'] as const;
export type AnalysisFeature = (typeof ANALYSIS_FEATURES)[number];

export interface AnalyzeStage {
  /** Defaults to all of ANALYSIS_FEATURES. */
  features?: AnalysisFeature[];
}

/** Which stages run after the download, always in the order separate, analyze. */
export interface AudioJobStages {
  separate?: SeparateStage;
  analyze?: AnalyzeStage;
}

export interface AudioJobOutput {
  /** Relative storage prefix; `<namespace>/<name>/` when unset. */
  prefix?: string;
}

/** Defaults download 10m, separate 1h, analyze 15m are applied by the apiserver. */
export interface AudioJobTimeouts {
  download?: DurationString;
  separate?: DurationString;
  analyze?: DurationString;
}

/** Immutable once created, except `cancel` (which can only go from false to true). */
export interface AudioJobSpec {
  source: AudioSource;
  stages: AudioJobStages;
  output?: AudioJobOutput;
  /** -100..100, higher first; defaults to 0. */
  priority?: number;
  timeouts?: AudioJobTimeouts;
  cancel?: boolean;
}

export const AUDIO_JOB_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled'] as const;
export type AudioJobPhase = (typeof AUDIO_JOB_PHASES)[number];
export const AUDIO_JOB_STAGES = ['download', 'separate', 'analyze'] as const;
export type AudioJobStage = (typeof AUDIO_JOB_STAGES)[number];

export const AudioJobConditionType = {
  Progressing: 'Progressing',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
} as const;
export type AudioJobConditionType = (typeof AudioJobConditionType)[keyof typeof AudioJobConditionType];

export interface StemResult {
  name: string;
  /** Storage key of the stem's audio file (under namespaces/<namespace>/jobs/<uid>/). */
  path: string;
  /** From the file's header: `wav`. */
  format?: string;
  contentType?: string;
  bytes?: number;
  durationSeconds?: number;
  /** Hex sha256 of the bytes the separator wrote. */
  sha256?: string;
}

export interface AudioJobResults {
  bpm?: number;
  /** e.g. "A minor". */
  key?: string;
  /** Integrated loudness, LUFS. */
  loudness?: number;
  durationSeconds?: number;
  stems?: StemResult[];
}

export interface AudioJobStatus {
  observedGeneration?: number;
  phase?: AudioJobPhase;
  stage?: AudioJobStage;
  /** 0..100 over all stages. */
  progress?: number;
  workflowId?: string;
  /** RFC 3339. */
  startTime?: string;
  completionTime?: string;
  results?: AudioJobResults;
  conditions?: Condition[];
}

export interface AudioJob {
  apiVersion: 'switchforge.io/v1alpha1';
  kind: 'AudioJob';
  metadata: V1ObjectMeta;
  spec: AudioJobSpec;
  status?: AudioJobStatus;
}

export function isTerminalPhase(phase: AudioJobPhase | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Cancelled';
}
