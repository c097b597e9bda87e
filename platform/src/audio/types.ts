import type { StemDescriptor } from './stem-descriptor.js';

/**
 * The shapes that cross the workflow/activity boundary. Each activity takes one object and returns
 * one, so a new field never breaks a caller (Temporal samples' rule). Plain data only: these are
 * serialized into workflow history.
 */

/** Where the track comes from: exactly one of the three. */
export type AudioSource =
  | { readonly url: string; readonly sha256?: string }
  | { readonly spotifyTrackId: string; readonly sha256?: string }
  | { readonly storagePath: string; readonly sha256?: string };

export type SeparationDevice = 'auto' | 'cpu' | 'cuda';

export interface SeparateOptions {
  readonly model: string;
  /** `all` or one stem name (`vocals`, `drums`, `bass`, `other`). */
  readonly stems: string;
  readonly shifts: number;
  /** Seconds; the model's default when unset. */
  readonly segment?: number;
  readonly device: SeparationDevice;
}

export type AnalysisFeature = 'tempo' | 'key' | 'loudness' | 'spectral' | 'onsets' | 'energy';

export interface AnalyzeOptions {
  readonly features: readonly AnalysisFeature[];
}

export interface StageTimeouts {
  readonly downloadMs: number;
  readonly separateMs: number;
  readonly analyzeMs: number;
  /** How long a silent activity counts as alive; a dead worker's activity is retried after it. */
  readonly heartbeatMs?: number;
}

/** The workflow's one argument, built by the operator from the AudioJob spec. */
export interface AudioJobInput {
  readonly jobUid: string;
  readonly namespace: string;
  readonly name: string;
  readonly source: AudioSource;
  readonly separate?: SeparateOptions;
  readonly analyze?: AnalyzeOptions;
  /** Storage prefix (relative to the storage root) under which this job's files live. */
  readonly outputPrefix: string;
  readonly timeouts: StageTimeouts;
}

export type AudioStage = 'download' | 'separate' | 'analyze';

export const DEFAULT_TIMEOUTS: StageTimeouts = {
  downloadMs: 5 * 60_000,
  separateMs: 5 * 60_000,
  analyzeMs: 2 * 60_000,
  heartbeatMs: 30_000,
};

export type JobPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Cancelled';

/** What the `progress` query returns and the job status shows. */
export interface JobProgress {
  readonly phase: JobPhase;
  readonly stage?: AudioStage;
  /** 0–100 within `stage`. */
  readonly percent: number;
  readonly message?: string;
  readonly failure?: JobFailure;
}

/** Sent by activities to the workflow's `progress` signal. */
export interface ProgressUpdate {
  readonly stage: AudioStage;
  readonly percent: number;
  readonly message?: string;
}

export interface JobFailure {
  readonly stage: AudioStage | 'finalize';
  /** CamelCase, machine readable (`CorruptAudio`, `SourceNotFound`, `TooLarge`, ...). */
  readonly reason: string;
  readonly message: string;
}

export interface DownloadInput {
  readonly job: AudioJobInput;
}

export interface DownloadResult {
  /** Storage-relative path of the fetched input. */
  readonly inputPath: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly contentType?: string;
  readonly track?: TrackMetadata;
}

export interface TrackMetadata {
  readonly id: string;
  readonly name: string;
  readonly artists: readonly string[];
  readonly album?: string;
  readonly durationMs?: number;
  readonly isrc?: string;
}

export interface StageInput {
  readonly job: AudioJobInput;
  readonly inputPath: string;
}

export interface SeparationResult {
  /** Stem name → storage key. */
  readonly stems: Readonly<Record<string, string>>;
  /** What each stem is (format, size, duration, hash); absent in histories from before it. */
  readonly files?: readonly StemDescriptor[];
  readonly model: string;
  readonly device: string;
  readonly sampleRate: number;
}

export interface AnalysisResult {
  readonly durationS: number;
  readonly tempo?: { readonly bpm: number; readonly confidence: number };
  readonly key?: {
    readonly tonic: string;
    readonly mode: string;
    readonly label: string;
    readonly confidence: number;
  };
  readonly loudnessLufs?: number;
  readonly energy?: number;
  readonly spectral?: { readonly centroidHz: number; readonly rolloffHz: number };
  readonly onsetRate?: number;
}

export interface AudioJobResult {
  readonly jobUid: string;
  readonly input: DownloadResult;
  readonly separation?: SeparationResult;
  readonly analysis?: AnalysisResult;
}

export type JobOutcome =
  | { readonly outcome: 'Succeeded'; readonly result: AudioJobResult }
  | { readonly outcome: 'Failed'; readonly failure: JobFailure }
  | { readonly outcome: 'Cancelled' };

export interface FinishInput {
  readonly job: AudioJobInput;
  readonly outcome: JobOutcome;
  /** Workflow start, epoch ms: the job duration metric is measured from it. */
  readonly startedAtMs: number;
}

export interface CleanupInput {
  readonly job: AudioJobInput;
}
