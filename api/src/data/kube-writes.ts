import {
  ApiException,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  AUDIO_JOB,
  DEVICE,
  GROUP,
  VERSION,
  type AudioJob,
  type AudioJobSpec,
} from '@switchforge/platform/crd';
import {
  ConflictError,
  InputError,
  NotFoundError,
  UnavailableError,
  errorMessage,
} from '@switchforge/platform/errors';

export const BACKUP_REQUESTED_ANNOTATION = 'switchforge.io/backup-requested';

/**
 * The API's writes to Kubernetes: it creates and deletes AudioJob resources and annotates
 * Devices, always after the caller passed a SubjectAccessReview for the same verb; the
 * apiserver's schema and CEL rules validate what is written (strict field validation, so an
 * unknown field is an error rather than silently dropped).
 */
export class KubeWrites {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async createAudioJob(namespace: string, name: string, spec: AudioJobSpec): Promise<AudioJob> {
    const body: AudioJob = { apiVersion: API_VERSION, kind: 'AudioJob', metadata: { name, namespace }, spec };
    try {
      return (await this.api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: AUDIO_JOB.plural,
        body,
        fieldValidation: 'Strict',
      })) as AudioJob;
    } catch (e) {
      throw fromApiError(e, `audiojob ${namespace}/${name}`);
    }
  }

  /** True when the job existed. */
  async deleteAudioJob(namespace: string, name: string): Promise<boolean> {
    try {
      await this.api.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: AUDIO_JOB.plural,
        name,
      });
      return true;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return false;
      throw fromApiError(e, `audiojob ${namespace}/${name}`);
    }
  }

  async requestBackup(namespace: string, name: string, at: Date): Promise<void> {
    try {
      await this.api.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: DEVICE.plural,
          name,
          body: { metadata: { annotations: { [BACKUP_REQUESTED_ANNOTATION]: at.toISOString() } } },
          fieldValidation: 'Strict',
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (e) {
      throw fromApiError(e, `device ${namespace}/${name}`);
    }
  }
}

/** The apiserver's Status message (which names the offending field) as a typed error. */
function fromApiError(e: unknown, what: string): Error {
  if (!(e instanceof ApiException))
    return new UnavailableError(`${what}: ${errorMessage(e)}`, 'KubernetesUnavailable', { cause: e });
  const message = statusMessage(e.body) ?? `HTTP ${e.code}`;
  switch (e.code) {
    case 400:
    case 422:
      return new InputError(`${what}: ${message}`, 'Invalid', { cause: e });
    case 404:
      return new NotFoundError(`${what} not found`, { cause: e });
    case 409:
      return new ConflictError(`${what}: ${message}`, { cause: e });
    default:
      return new UnavailableError(`${what}: ${message}`, 'KubernetesUnavailable', { cause: e });
  }
}

function statusMessage(body: unknown): string | undefined {
  const parsed: unknown = typeof body === 'string' ? safeJson(body) : body;
  if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string')
    return parsed.message;
  return typeof body === 'string' ? body : undefined;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
