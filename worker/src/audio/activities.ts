import { Context } from '@temporalio/activity';
import { AudioInputError } from './errors.js';
import { recordJobDuration } from './metrics.js';
import { runPythonModule } from './python-process.js';
import type { ResultSink } from './result-sink.js';
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
import { AnalyzerResult, parseResult, pythonFeature, SeparatorResult } from './python-results.js';
import { runStage } from './stage-frame.js';
import { describeStem, extensionFor, hashStoredFile, stemFileName } from './stored-files.js';
import type {
  AnalysisResult,
  CleanupInput,
  DownloadInput,
  DownloadResult,
  FinishInput,
  SeparationResult,
  StageInput,
} from '@switchforge/platform/audio/types';

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

function withoutPreview(t: SpotifyTrack): DownloadResult['track'] {
  const { previewUrl: _omit, ...rest } = t;
  return rest;
}
