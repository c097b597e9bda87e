import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type CustomObjectsApi,
} from '@kubernetes/client-node';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import { AUDIO_JOB, GROUP, VERSION, isTerminalPhase, type AudioJob } from '@switchforge/platform/crd';
import { MANAGER } from '@switchforge/platform/device-worker';
import { InputError, errorMessage } from '@switchforge/platform/errors';
import { splitKey, type SupervisedInformer } from '@switchforge/platform/kube';
import { log } from '@switchforge/platform/log';
import { cancelAudioJob, startAudioJob } from '@switchforge/platform/audio/client';
import type { AudioStore } from '@switchforge/platform/audio/store/audio-store';
import { jobPrefix } from '@switchforge/platform/audio/storage-layout';
import { workflowIdForJob } from '@switchforge/platform/audio/workflow-id';
import type { ReconcileResult, Reconciler } from '../machinery/controller.js';
import { EventRecorder } from '../machinery/event-recorder.js';
import { computeAudioJobStatus, statusChanged, type JobObservation } from './job-status.js';
import { stagesOf, workflowInput } from './workflow-input.js';
import { readWorkflowState } from './workflow-state.js';
import { patchStatus } from '../machinery/status-patch.js';

export const FINALIZER = 'switchforge.io/audiojob-cleanup';

const tracer = trace.getTracer('switchforge-operator');

export interface AudioJobDeps {
  jobs: SupervisedInformer<AudioJob>;
  customObjects: CustomObjectsApi;
  core: CoreV1Api;
  temporal: Client;
  /** Where job files are (volume or bucket): the finalizer removes the job's prefix. */
  store: AudioStore;
  queuePrefix: string;
  /** How often a running job's progress is read. */
  progressPollMs: number;
  now?: () => Date;
}

/**
 * Converges one AudioJob: one workflow (its id is the job's uid, so restarts find it again), the
 * status read from that workflow (the operator is the status's only writer), and on deletion the
 * finalizer: cancel, wait for the workflow to close, remove the job's files, let the object go.
 * Each reconcile is a span; the workflow it starts carries that span's context (the Temporal
 * client's trace interceptor), so the job's activities and Python phases join its trace.
 */
export class AudioJobReconciler implements Reconciler {
  private readonly now: () => Date;

  private readonly events: EventRecorder;

  constructor(private readonly deps: AudioJobDeps) {
    this.now = deps.now ?? (() => new Date());
    this.events = new EventRecorder(deps.core, MANAGER, this.now);
  }

  reconcile(key: string): Promise<ReconcileResult | void> {
    return tracer.startActiveSpan(
      'audiojob.reconcile',
      { attributes: { 'switchforge.audiojob.key': key } },
      async (span) => {
        try {
          return await this.sync(key, span);
        } catch (e) {
          span.recordException(e instanceof Error ? e : new Error(errorMessage(e)));
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(e) });
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }

  private async sync(key: string, span: Span): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const job = this.deps.jobs.get(name, namespace);
    if (!job) return;
    const uid = job.metadata.uid!;
    span.setAttribute('switchforge.audio.job_uid', uid);
    if (job.metadata.deletionTimestamp) return this.finalize(job);
    if (!job.metadata.finalizers?.includes(FINALIZER)) await this.addFinalizer(job);
    // Finished and seen at this generation: Temporal has nothing more to say.
    if (isTerminalPhase(job.status?.phase) && job.status?.observedGeneration === job.metadata.generation)
      return;

    let observed: JobObservation = await readWorkflowState(this.deps.temporal, uid, 1_000);
    if (observed.state === 'NotFound' && job.status?.workflowId) {
      // We started it once; starting again would run the job twice (the old one may be archived).
      observed = { state: 'Lost' };
    } else if (observed.state === 'NotFound' && !job.spec.cancel) {
      try {
        const input = workflowInput(job);
        await startAudioJob(this.deps.temporal, input, { queuePrefix: this.deps.queuePrefix });
        span.addEvent('audio workflow started', { 'temporal.workflow.id': workflowIdForJob(uid) });
        log.info('started audio workflow', { job: key, uid });
        observed = { state: 'Running', startTime: this.now() };
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        observed = { state: 'Invalid', reason: e.reason, message: e.message };
      }
    } else if (observed.state === 'Running' && job.spec.cancel) {
      await cancelAudioJob(this.deps.temporal, uid);
    }

    const { status, transitions } = computeAudioJobStatus(job, observed, stagesOf(job), this.now());
    if (statusChanged(job.status, status)) {
      await patchStatus(this.deps.customObjects, { plural: AUDIO_JOB.plural, namespace, name }, status);
      for (const t of transitions) await this.events.record(job, t);
    }
    return isTerminalPhase(status.phase) ? undefined : { requeueAfterMs: this.deps.progressPollMs };
  }

  /** Cancel, wait until the workflow has closed (its Python children are dead), remove files, release. */
  private async finalize(job: AudioJob): Promise<ReconcileResult | void> {
    if (!job.metadata.finalizers?.includes(FINALIZER)) return;
    const uid = job.metadata.uid!;
    const state = await readWorkflowState(this.deps.temporal, uid, 500);
    if (state.state === 'Running') {
      await cancelAudioJob(this.deps.temporal, uid);
      return { requeueAfterMs: 500 };
    }
    const removed = await this.deps.store.removePrefix(jobPrefix(job.metadata.namespace!, uid));
    await this.setFinalizers(
      job,
      (job.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
    );
    log.info('audio job cleaned up', {
      job: `${job.metadata.namespace}/${job.metadata.name}`,
      uid,
      filesRemoved: removed,
    });
  }

  private async addFinalizer(job: AudioJob): Promise<void> {
    await this.setFinalizers(job, [...(job.metadata.finalizers ?? []), FINALIZER]);
  }

  private async setFinalizers(job: AudioJob, finalizers: string[]): Promise<void> {
    await this.deps.customObjects.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: AUDIO_JOB.plural,
        namespace: job.metadata.namespace!,
        name: job.metadata.name!,
        // resourceVersion makes this a compare-and-swap: a stale cache gets a conflict and a retry.
        body: { metadata: { resourceVersion: job.metadata.resourceVersion, finalizers } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}
