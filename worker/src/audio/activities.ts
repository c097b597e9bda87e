import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { z } from 'zod';
import { errorMessage, isSwitchforgeError } from '@switchforge/platform/errors';
import { AudioInputError, PythonAbortedError, PythonProcessError, toApplicationFailure } from './errors.js';
import { recordJobDuration, recordStage, recordStageFailure } from './metrics.js';
import { runPythonModule } from './python-process.js';
import type { ResultSink, SinkJob } from './result-sink.js';
import type { HostResolver, SourceAddressPolicy } from '@switchforge/platform/audio/source-address-policy';
import { downloadToFile } from './sources/http.js';
import type { HttpLimits } from './sources/http.js';
import type { SpotifyTrack } from './sources/spotify.js';
import type { TrackAudioResolver } from './sources/track-audio.js';
import type { StemDescriptor } from '@switchforge/platform/audio/stem-descriptor';
import type { AudioStore } from '@switchforge/platform/audio/store/audio-store';
import { ownPrefix } from '@switchforge/platform/audio/store/job-prefix';
import { VolumeStore } from '@switchforge/platform/audio/store/volume-store';
import {
  inputKey,
  jobPrefix,
  keyInNamespace,
  namespaceArea,
  stemsPrefix,
} from '@switchforge/platform/audio/storage-layout';
import { readWavInfo } from './wav-info.js';
import type {
  AnalysisFeature,
  AnalysisResult,
  AudioStage,
  CleanupInput,
  DownloadInput,
  DownloadResult,
  FinishInput,
  ProgressUpdate,
  SeparationResult,
  StageInput,
} from '@switchforge/platform/audio/types';
import { PROGRESS_SIGNAL } from '@switchforge/platform/audio/workflow-id';

export interface ActivityDeps {
  /**
   * Root of the audio volume (every path the activities touch is confined to it) or, with an
   * object `store`, the local scratch folder files are staged in.
   */
  readonly storageRoot: string;
  /** Where job files are kept; the volume at `storageRoot` when unset. */
  readonly store?: AudioStore;
  /** The venv's python. */
  readonly pythonPath: string;
  /** `python-workers/`, so `switchforge_audio` imports. */
  readonly pythonCwd: string;
  /**
   * A folder of Demucs model files (`separator --repo`) for clusters without internet access;
   * unset, pretrained models are fetched into the torch cache on first use.
   */
  readonly modelRepo?: string;
  readonly httpLimits: HttpLimits;
  /** What source URLs may reach; unset, every internal address is refused. */
  readonly sourcePolicy?: SourceAddressPolicy;
  /** Host name resolution for source URLs (tests: a local hook); the system's by default. */
  readonly resolver?: HostResolver;
  /** Needed only for `spotifyTrackId` sources. */
  readonly spotify?: { getTrack(id: string, signal?: AbortSignal): Promise<SpotifyTrack> };
  readonly trackAudio?: TrackAudioResolver;
  readonly resultSink: ResultSink;
  /** SIGTERM → SIGKILL grace for Python children. */
  readonly killGraceMs?: number;
  /** How often a running stage heartbeats; cancellation is only seen on a heartbeat. */
  readonly heartbeatIntervalMs?: number;
  /** Progress is forwarded (signal + sink) at most this often, plus at every stage end. */
  readonly progressIntervalMs?: number;
}

const tracer = trace.getTracer('switchforge-audio-worker');

const SeparatorResult = z.object({
  type: z.literal('result'),
  stems: z.record(z.string(), z.string()),
  model: z.string(),
  device: z.string(),
  sample_rate: z.number(),
});

const AnalyzerResult = z.object({
  type: z.literal('result'),
  duration_s: z.number(),
  tempo: z.object({ bpm: z.number(), confidence: z.number() }).nullish(),
  key: z.object({ tonic: z.string(), mode: z.string(), label: z.string(), confidence: z.number() }).nullish(),
  loudness_lufs: z.number().nullish(),
  energy: z.number().nullish(),
  spectral: z.object({ centroid_hz: z.number(), rolloff_hz: z.number() }).nullish(),
  onset_rate: z.number().nullish(),
});

/** Python is killed a little before Temporal's start-to-close timeout, so the error is ours. */
const TIMEOUT_MARGIN_MS = 1_000;

export function createActivities(deps: ActivityDeps) {
  const store = deps.store ?? new VolumeStore(deps.storageRoot);
  const killGraceMs = deps.killGraceMs ?? 2_000;

  async function download({ job }: DownloadInput): Promise<DownloadResult> {
    return runStage(deps, job, 'download', async (report, signal) => {
      const source = job.source;
      let track: SpotifyTrack | undefined;
      let target: { url: string; sha256?: string } | { storagePath: string; sha256?: string };
      if ('spotifyTrackId' in source) {
        if (!deps.spotify || !deps.trackAudio) {
          throw new AudioInputError('InvalidSource', 'Spotify sources are not configured on this worker');
        }
        report(0, `looking up Spotify track ${source.spotifyTrackId}`);
        track = await deps.spotify.getTrack(source.spotifyTrackId, signal);
        const audio = await deps.trackAudio.resolve(track, signal);
        target = { ...audio, ...(source.sha256 ? { sha256: source.sha256 } : {}) };
      } else target = source;

      const trackMeta = track ? { track: withoutPreview(track) } : {};
      const prefix = ownPrefix(job);
      if ('storagePath' in target) {
        // A job names paths inside its own namespace's area only; the Spotify mirror's path is
        // the operator's configuration, relative to the whole store.
        const key = track ? target.storagePath : keyInNamespace(job.namespace, target.storagePath);
        const abs = await store.localCopy(key, track ? undefined : namespaceArea(job.namespace));
        const { bytes, sha256 } = await hashStoredFile(abs, deps.httpLimits.maxBytes);
        if (target.sha256 && target.sha256.toLowerCase() !== sha256) {
          throw new AudioInputError(
            'ChecksumMismatch',
            `sha256 of ${target.storagePath} is ${sha256}, expected ${target.sha256}`,
          );
        }
        report(100, 'input is in storage');
        return { inputPath: key, bytes, sha256, ...trackMeta };
      }
      const key = inputKey(prefix, `source${extensionFor(target.url)}`);
      const dest = await store.workPath(key);
      const fetched = await downloadToFile({
        url: target.url,
        destPath: dest,
        limits: {
          ...deps.httpLimits,
          timeoutMs: Math.min(deps.httpLimits.timeoutMs, job.timeouts.downloadMs),
        },
        ...(target.sha256 ? { expectedSha256: target.sha256 } : {}),
        ...(deps.sourcePolicy ? { policy: deps.sourcePolicy } : {}),
        ...(deps.resolver ? { resolver: deps.resolver } : {}),
        signal,
        onProgress: (bytes, total) => report(total ? (100 * bytes) / total : 0, `${bytes} bytes`),
      });
      await store.commit(key, fetched.contentType ?? 'application/octet-stream');
      return { inputPath: key, ...fetched, ...trackMeta };
    });
  }

  async function separate({ job, inputPath }: StageInput): Promise<SeparationResult> {
    return runStage(deps, job, 'separate', async (report, signal) => {
      const opts = job.separate;
      if (!opts) throw new AudioInputError('InvalidArgument', 'the job asks for no separation');
      const input = await store.localCopy(inputPath);
      const stemsKey = stemsPrefix(ownPrefix(job));
      const outDir = await store.workDir(stemsKey);
      const { result } = await runPythonModule({
        pythonPath: deps.pythonPath,
        cwd: deps.pythonCwd,
        module: 'switchforge_audio.separator',
        args: [
          '--input',
          input,
          '--output-dir',
          outDir,
          '--model',
          opts.model,
          ...(deps.modelRepo !== undefined ? ['--repo', deps.modelRepo] : []),
          '--stems',
          opts.stems,
          '--shifts',
          String(opts.shifts),
          // Unset: the model's own segment length.
          ...(opts.segment !== undefined ? ['--segment', String(opts.segment)] : []),
          '--device',
          opts.device,
        ],
        timeoutMs: Math.max(1_000, job.timeouts.separateMs - TIMEOUT_MARGIN_MS),
        signal,
        killGraceMs,
        onProgress: (p) => report(p.percent, p.message),
      });
      const r = parseResult(SeparatorResult, result, 'separator');
      const stems: Record<string, string> = {};
      const files: StemDescriptor[] = [];
      for (const [name, path] of Object.entries(r.stems)) {
        const key = `${stemsKey}/${stemFileName(outDir, path)}`;
        const described = await describeStem(name, key, path);
        await store.commit(key, described.contentType);
        stems[name] = key;
        files.push(described);
      }
      return { stems, files, model: r.model, device: r.device, sampleRate: r.sample_rate };
    });
  }

  async function analyze({ job, inputPath }: StageInput): Promise<AnalysisResult> {
    return runStage(deps, job, 'analyze', async (report, signal) => {
      const input = await store.localCopy(inputPath);
      const features = job.analyze?.features ?? [];
      const { result } = await runPythonModule({
        pythonPath: deps.pythonPath,
        cwd: deps.pythonCwd,
        module: 'switchforge_audio.analyzer',
        args: [
          '--input',
          input,
          ...(features.length > 0 ? ['--features', features.map(pythonFeature).join(',')] : []),
        ],
        timeoutMs: Math.max(1_000, job.timeouts.analyzeMs - TIMEOUT_MARGIN_MS),
        signal,
        killGraceMs,
        onProgress: (p) => report(p.percent, p.message),
      });
      const r = parseResult(AnalyzerResult, result, 'analyzer');
      return {
        durationS: r.duration_s,
        ...(r.tempo ? { tempo: r.tempo } : {}),
        ...(r.key ? { key: r.key } : {}),
        ...(r.loudness_lufs != null ? { loudnessLufs: r.loudness_lufs } : {}),
        ...(r.energy != null ? { energy: r.energy } : {}),
        ...(r.spectral
          ? { spectral: { centroidHz: r.spectral.centroid_hz, rolloffHz: r.spectral.rolloff_hz } }
          : {}),
        ...(r.onset_rate != null ? { onsetRate: r.onset_rate } : {}),
      };
    });
  }

  /** Records the job's outcome in the sink and its duration; idempotent. */
  async function finish({ job, outcome, startedAtMs }: FinishInput): Promise<void> {
    if (outcome.outcome === 'Succeeded') await deps.resultSink.recordResult(job, outcome.result);
    else if (outcome.outcome === 'Failed') await deps.resultSink.recordFailure(job, outcome.failure);
    else await deps.resultSink.recordCancelled(job);
    // Only the first attempt's clock is meaningful; retries would re-record a longer duration.
    if (Context.current().info.attempt === 1)
      recordJobDuration((Date.now() - startedAtMs) / 1000, outcome.outcome);
  }

  /** Removes the job's files (the job was cancelled or deleted). */
  async function cleanup({ job }: CleanupInput): Promise<{ removed: boolean }> {
    return { removed: await store.removePrefix(jobPrefix(job.namespace, job.jobUid)) };
  }

  return { download, separate, analyze, finish, cleanup };
}

export type AudioActivities = ReturnType<typeof createActivities>;

type Report = (percent: number, message?: string) => void;

/**
 * The frame every stage runs in: a span, a heartbeat ticker (cancellation only arrives with a
 * heartbeat), throttled progress to the workflow and the sink, metrics, and the error edge.
 */
async function runStage<T>(
  deps: ActivityDeps,
  job: SinkJob,
  stage: AudioStage,
  body: (report: Report, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctx = Context.current();
  const started = performance.now();
  const progress = new ProgressForwarder(ctx, deps, job, stage);
  const ticker = setInterval(() => progress.heartbeat(), deps.heartbeatIntervalMs ?? 1_000);
  progress.report(0, ctx.info.attempt > 1 ? `attempt ${ctx.info.attempt}` : 'started');
  return tracer.startActiveSpan(
    `audio.${stage}`,
    {
      attributes: { 'switchforge.audio.job_uid': job.jobUid, 'switchforge.audio.attempt': ctx.info.attempt },
    },
    async (span) => {
      try {
        const result = await body((p, m) => progress.report(p, m), ctx.cancellationSignal);
        progress.report(100, 'done');
        await progress.flush();
        recordStage(stage, seconds(started), 'ok');
        return result;
      } catch (e) {
        if (ctx.cancellationSignal.aborted || e instanceof PythonAbortedError) {
          recordStage(stage, seconds(started), 'cancelled');
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'cancelled' });
          const reason: unknown = ctx.cancellationSignal.reason;
          throw reason instanceof Error ? reason : new CancelledFailure(`${stage} cancelled`);
        }
        const reason = isSwitchforgeError(e) ? e.reason : 'Internal';
        recordStage(stage, seconds(started), 'failed');
        recordStageFailure(stage, reason);
        span.recordException(e instanceof Error ? e : new Error(errorMessage(e)));
        span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
        throw toApplicationFailure(e);
      } finally {
        clearInterval(ticker);
        span.end();
      }
    },
  );
}

/**
 * Heartbeats with the latest progress and forwards it, throttled, to the workflow (signal) and
 * the sink. A stage's end (100 %) goes to the sink only: the activity's completion tells the
 * workflow, and a signal round trip there would delay every stage hand-over.
 */
class ProgressForwarder {
  private last: ProgressUpdate;
  private lastSentAt = 0;
  private recording: Promise<void> = Promise.resolve();
  private signalling: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: Context,
    private readonly deps: ActivityDeps,
    private readonly job: SinkJob,
    stage: AudioStage,
  ) {
    this.last = { stage, percent: 0 };
  }

  report(percent: number, message?: string): void {
    this.last = {
      stage: this.last.stage,
      percent: Math.round(percent * 10) / 10,
      ...(message !== undefined ? { message } : {}),
    };
    this.heartbeat();
    if (Date.now() - this.lastSentAt >= (this.deps.progressIntervalMs ?? 1_000) || percent >= 100)
      this.send(percent < 100);
  }

  heartbeat(): void {
    this.ctx.heartbeat(this.last);
  }

  /** Waits for the sink's writes, so none lands after the stage's result (which would undo it). */
  flush(): Promise<void> {
    return this.recording;
  }

  private send(signal: boolean): void {
    this.lastSentAt = Date.now();
    const update = this.last;
    const warn = (e: unknown) => this.ctx.log.warn('progress not delivered', { error: errorMessage(e) });
    // Each chained so updates arrive in order; failures are logged, progress is best effort.
    this.recording = this.recording
      .then(() => this.deps.resultSink.recordProgress(this.job, update.stage, update.percent, update.message))
      .catch(warn);
    const execution = this.ctx.info.workflowExecution;
    if (!signal || !execution) return;
    const handle = this.ctx.client.workflow.getHandle(execution.workflowId, execution.runId);
    this.signalling = this.signalling.then(() => handle.signal(PROGRESS_SIGNAL, update)).catch(warn);
  }
}

async function hashStoredFile(path: string, maxBytes: number): Promise<{ bytes: number; sha256: string }> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) throw new AudioInputError('SourceNotFound', 'the input file does not exist in storage');
  if (s.size === 0) throw new AudioInputError('EmptyAudio', 'the input file is empty (0 bytes)');
  if (s.size > maxBytes)
    throw new AudioInputError(
      'TooLarge',
      `the input file is ${s.size} bytes, over the ${maxBytes}-byte limit`,
    );
  return { bytes: s.size, sha256: await sha256Of(path) };
}

const AUDIO_EXTENSIONS = new Set([
  '.wav',
  '.mp3',
  '.flac',
  '.ogg',
  '.oga',
  '.opus',
  '.m4a',
  '.aac',
  '.aif',
  '.aiff',
  '.webm',
]);

/** Decoders pick a demuxer by extension, so keep the source's when it names an audio format. */
function extensionFor(url: string): string {
  const ext = extname(new URL(url).pathname).toLowerCase();
  return AUDIO_EXTENSIONS.has(ext) ? ext : '.audio';
}

/** The stem's file name, refusing one the separator wrote anywhere but its output folder. */
function stemFileName(outDir: string, path: string): string {
  const rel = relative(outDir, path);
  if (rel === '' || rel.startsWith('..') || rel.includes(sep) || rel !== basename(path)) {
    throw new PythonProcessError(
      `separator wrote a stem outside its output folder: ${path}`,
      0,
      '',
      'PythonContractViolation',
    );
  }
  return rel;
}

async function describeStem(name: string, key: string, path: string): Promise<StemDescriptor> {
  const [{ size }, wav, sha256] = await Promise.all([stat(path), readWavInfo(path), sha256Of(path)]);
  return {
    name,
    path: key,
    format: 'wav',
    contentType: 'audio/wav',
    bytes: size,
    durationS: Math.round(wav.durationS * 1000) / 1000,
    sha256,
  };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function parseResult<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new PythonProcessError(
      `${what} result does not match the contract: ${parsed.error.issues[0]?.message ?? ''}`,
      0,
      '',
      'PythonContractViolation',
    );
  }
  return parsed.data;
}

function withoutPreview(t: SpotifyTrack): DownloadResult['track'] {
  const { previewUrl: _omit, ...rest } = t;
  return rest;
}

/** The CRD's feature names where the analyzer's differ (`onsets` is its `onset_rate`). */
function pythonFeature(f: AnalysisFeature): string {
  return f === 'onsets' ? 'onset_rate' : f;
}

function seconds(startedPerf: number): number {
  return (performance.now() - startedPerf) / 1000;
}
