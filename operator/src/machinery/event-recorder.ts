import type { CoreV1Api, KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from '@switchforge/platform/errors';
import { log } from '@switchforge/platform/log';

export interface EventNote {
  reason: string;
  message: string;
  warning: boolean;
}

/**
 * controller-runtime's EventRecorder: a Kubernetes Event about an object, so `kubectl describe`
 * shows its history. Recording is a courtesy: a failure is logged, never thrown into a reconcile.
 */
export class EventRecorder {
  constructor(
    private readonly core: Pick<CoreV1Api, 'createNamespacedEvent'>,
    private readonly component: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(object: KubernetesObject, note: EventNote): Promise<void> {
    const now = this.now();
    const namespace = object.metadata?.namespace ?? 'default';
    const name = object.metadata?.name ?? '';
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${name}.`, namespace },
          involvedObject: {
            apiVersion: object.apiVersion ?? '',
            kind: object.kind ?? '',
            name,
            namespace,
            uid: object.metadata?.uid ?? '',
          },
          type: note.warning ? 'Warning' : 'Normal',
          reason: note.reason,
          message: note.message.slice(0, 1024),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component: this.component },
          reportingComponent: this.component,
        },
      });
    } catch (e) {
      log.warn('could not record event', {
        object: `${namespace}/${name}`,
        reason: note.reason,
        error: errorMessage(e),
      });
    }
  }
}
