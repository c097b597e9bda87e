import { ANALYSIS_FEATURES, parseDuration, type AudioJob } from '@switchforge/platform/crd';
import { InputError } from '@switchforge/platform/errors';
import { jobPrefix } from '@switchforge/platform/audio/storage-layout';
import type { AudioJobInput, AudioSource, AudioStage } from '@switchforge/platform/audio/types';

/** The apiserver fills these in; the same values here keep a pre-default object runnable. */
const DEFAULT_TIMEOUTS = { download: '10m', separate: '1h', analyze: '15m' } as const;
const HEARTBEAT_MS = 30_000;

/**
 * The workflow's argument for an AudioJob. Pure. Throws InputError (reason InvalidSpec) for a spec
 * the schema should have refused, so the job fails with a reason instead of retrying forever.
 */
export function workflowInput(job: AudioJob): AudioJobInput {
  const { uid, namespace, name } = job.metadata;
  if (!uid || !namespace || !name)
    throw new InputError('the AudioJob has no uid, namespace or name', 'InvalidSpec');
  const spec = job.spec;
  const sources: AudioSource[] = [];
  if (spec.source.url) sources.push({ url: spec.source.url });
  if (spec.source.spotifyTrackId) sources.push({ spotifyTrackId: spec.source.spotifyTrackId });
  if (spec.source.storagePath) sources.push({ storagePath: spec.source.storagePath });
  const [source] = sources;
  if (!source || sources.length > 1)
    throw new InputError('exactly one of url, spotifyTrackId and storagePath must be set', 'InvalidSpec');

  const sep = spec.stages.separate;
  const stems = sep?.stems === 'two-stem' ? sep.twoStem : 'all';
  if (sep && !stems) throw new InputError('stems two-stem needs twoStem', 'InvalidSpec');
  const timeout = (stage: keyof typeof DEFAULT_TIMEOUTS) => {
    try {
      return parseDuration(spec.timeouts?.[stage] ?? DEFAULT_TIMEOUTS[stage]);
    } catch (e) {
      throw new InputError(`timeouts.${stage}: ${e instanceof Error ? e.message : String(e)}`, 'InvalidSpec');
    }
  };
  // A job's files live under its namespace's area, namespaces/<ns>/jobs/<uid>/ (the finalizer and
  // the janitor find them there); spec.output.prefix names a folder inside it.
  let own: string;
  try {
    own = jobPrefix(namespace, uid);
  } catch (e) {
    throw new InputError(e instanceof Error ? e.message : String(e), 'InvalidSpec');
  }
  const sub = spec.output?.prefix?.replace(/\/+$/, '');

  return {
    jobUid: uid,
    namespace,
    name,
    source,
    ...(sep
      ? {
          separate: {
            model: sep.model ?? 'htdemucs',
            stems: stems ?? 'all',
            shifts: sep.shifts ?? 1,
            ...(sep.segment !== undefined ? { segment: sep.segment } : {}),
            device: sep.device ?? 'auto',
          },
        }
      : {}),
    ...(spec.stages.analyze
      ? { analyze: { features: spec.stages.analyze.features ?? [...ANALYSIS_FEATURES] } }
      : {}),
    outputPrefix: sub ? `${own}/${sub}` : own,
    timeouts: {
      downloadMs: timeout('download'),
      separateMs: timeout('separate'),
      analyzeMs: timeout('analyze'),
      heartbeatMs: HEARTBEAT_MS,
    },
  };
}

/** The stages the job runs, in order (progress is spread evenly over them). */
export function stagesOf(job: AudioJob): AudioStage[] {
  return [
    'download',
    ...(job.spec.stages.separate ? (['separate'] as const) : []),
    ...(job.spec.stages.analyze ? (['analyze'] as const) : []),
  ];
}
