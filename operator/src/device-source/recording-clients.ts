/**
 * Clients that record what a source's reconciler (DeviceDiscovery, DeviceInventory) writes, for
 * the tests that run it over fixed listers: the Devices applied, the merge patches (gone marks),
 * the statuses and the Events.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Device } from '@switchforge/platform/crd';
import type { SecretReader } from '../discovery/probe-settings.js';
import type { SourceClients } from './owned-devices.js';

export interface RecordedEvent {
  reason?: string;
  type?: string;
  message?: string;
}

export interface RecordingClients<S> {
  clients: SourceClients & { core: Pick<CoreV1Api, 'createNamespacedEvent'>; readSecret: SecretReader };
  applied: Device[];
  merged: Device[];
  statuses: S[];
  events: RecordedEvent[];
}

const APPLY = 'application/apply-patch+yaml';

/** `refuse` may return an error for the apply of a Device, which the client then throws. */
export function recordingClients<S>(
  secrets: Record<string, Record<string, Buffer>>,
  refuse: (device: Device) => Error | undefined = () => undefined,
): RecordingClients<S> {
  const r: Omit<RecordingClients<S>, 'clients'> = { applied: [], merged: [], statuses: [], events: [] };
  type Clients = RecordingClients<S>['clients'];
  const clients: Clients = {
    objects: {
      patch: (async (body: Device, ...rest: unknown[]) => {
        if (rest[4] === APPLY) {
          const refusal = refuse(body);
          if (refusal) throw refusal;
          r.applied.push(body);
        } else r.merged.push(body);
        return body;
      }) as unknown as Clients['objects']['patch'],
    },
    customObjects: {
      patchNamespacedCustomObjectStatus: (async (req: { body: { status: S } }) => {
        r.statuses.push(req.body.status);
        return {};
      }) as unknown as Clients['customObjects']['patchNamespacedCustomObjectStatus'],
    },
    core: {
      createNamespacedEvent: (async (req: { body: RecordedEvent }) => {
        r.events.push(req.body);
        return {};
      }) as unknown as Clients['core']['createNamespacedEvent'],
    },
    readSecret: async (_ns, name) => secrets[name],
  };
  return { clients, ...r };
}
