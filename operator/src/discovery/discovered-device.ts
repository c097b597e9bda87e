/**
 * The Device a found target becomes, and which of the Devices a discovery created to mark as
 * missing or unmark. Pure: the reconciler applies what these return.
 */
import {
  ANNOTATION_MISSING_SINCE,
  API_VERSION,
  LABEL_DISCOVERY,
  type Device,
  type DeviceDiscovery,
  type DeviceSpec,
  type DeviceSubscription,
} from '@switchforge/platform/crd';
import { LABEL_MANAGED_BY, MANAGER } from '@switchforge/platform/device-worker';
import {
  missingMarksFor,
  ownedBy as ownedBySource,
  ownerReference,
  type MissingMark,
} from '../device-source/owned-devices.js';
import { deviceName } from './targets.js';
import { factLabels, type ProbeOutcome } from './probe-result.js';

type Answer = Extract<ProbeOutcome, { kind: 'answered' }>;

/**
 * The name a target's Device gets. Neither a gNMI Capabilities reply nor a NETCONF hello carries
 * a host name, so it is the address the target answered on (a host name as given), sanitised.
 */
export function nameForTarget(address: string): string {
  return deviceName(address);
}

function subscriptionFits(protocol: Answer['protocol'], s: DeviceSubscription): boolean {
  return protocol === 'gnmi' ? s.path !== undefined : s.filter !== undefined;
}

/** The Device for a target that answered, owned by (and labelled with) its discovery. */
export function desiredDevice(discovery: DeviceDiscovery, address: string, answer: Answer): Device {
  const t = discovery.spec.deviceTemplate ?? {};
  const protocol = answer.protocol;
  const subscriptions = (t.subscriptions ?? []).filter((s) => subscriptionFits(protocol, s));
  const spec: DeviceSpec = {
    address,
    port: answer.port,
    protocol,
    credentials: { secretRef: { name: discovery.spec.credentialsSecretRef.name } },
    ...(t.profileRef ? { profileRef: { name: t.profileRef.name } } : {}),
    ...(protocol === 'gnmi'
      ? {
          ...(t.tls ? { tls: t.tls } : {}),
          ...(t.encoding ? { encoding: t.encoding } : {}),
          ...(t.subscriptionMode ? { subscriptionMode: t.subscriptionMode } : {}),
          ...(t.pollInterval ? { pollInterval: t.pollInterval } : {}),
        }
      : { ...(t.ssh ? { ssh: t.ssh } : {}) }),
    ...(subscriptions.length > 0 ? { subscriptions } : {}),
    ...(t.labels ? { labels: t.labels } : {}),
    ...(t.resources ? { resources: t.resources } : {}),
    ...(t.backup ? { backup: t.backup } : {}),
  };
  return {
    apiVersion: API_VERSION,
    kind: 'Device',
    metadata: {
      name: nameForTarget(address),
      namespace: discovery.metadata.namespace!,
      labels: {
        [LABEL_MANAGED_BY]: MANAGER,
        [LABEL_DISCOVERY]: discovery.metadata.name!,
        ...factLabels(protocol, answer.facts),
      },
      // Deleting the discovery deletes what it created (the garbage collector follows this).
      ownerReferences: [ownerReference(discovery)],
    },
    spec,
  };
}

/** Whether this discovery controls the Device (its controller owner reference). */
export function ownedBy(device: Device, discovery: DeviceDiscovery): boolean {
  return ownedBySource(device, discovery);
}

/** The missing-since changes after a run (see missingMarksFor): the discovery's annotation. */
export function missingMarks(
  owned: readonly Device[],
  foundNames: ReadonlySet<string>,
  now: Date,
): { marks: MissingMark[]; missing: number } {
  return missingMarksFor(ANNOTATION_MISSING_SINCE, owned, foundNames, now);
}
