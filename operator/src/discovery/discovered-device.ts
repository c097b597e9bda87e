/**
 * The Device a found target becomes, and which of the Devices a discovery created to mark as
 * missing or unmark. Pure: the reconciler applies what these return.
 */
import {
  ANNOTATION_MISSING_SINCE,
  API_VERSION,
  DEVICE_DISCOVERY,
  LABEL_DISCOVERY,
  formatTime,
  type Device,
  type DeviceDiscovery,
  type DeviceSpec,
  type DeviceSubscription,
} from '@switchforge/platform/crd';
import { LABEL_MANAGED_BY, MANAGER } from '@switchforge/platform/device-worker';
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
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: DEVICE_DISCOVERY.kind,
          name: discovery.metadata.name!,
          uid: discovery.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec,
  };
}

/** Whether this discovery controls the Device (its controller owner reference). */
export function ownedBy(device: Device, discovery: DeviceDiscovery): boolean {
  return (device.metadata.ownerReferences ?? []).some(
    (r) => r.controller === true && r.uid === discovery.metadata.uid,
  );
}

export interface MissingMark {
  name: string;
  /** RFC 3339 to set, or null to remove the annotation. */
  since: string | null;
}

/**
 * The missing-since changes after a run: a Device this discovery owns and did not find gets the
 * annotation (its first missing time kept), one found again loses it. A missing Device is kept,
 * not deleted: a switch down for maintenance or a probe timing out must not take its history,
 * its worker and any hand-made edits with it; whoever runs the network deletes it once it is
 * gone for good (and the annotation says since when).
 */
export function missingMarks(
  owned: readonly Device[],
  foundNames: ReadonlySet<string>,
  now: Date,
): { marks: MissingMark[]; missing: number } {
  const marks: MissingMark[] = [];
  let missing = 0;
  for (const d of owned) {
    const name = d.metadata.name!;
    const since = d.metadata.annotations?.[ANNOTATION_MISSING_SINCE];
    if (foundNames.has(name)) {
      if (since !== undefined) marks.push({ name, since: null });
    } else {
      missing += 1;
      if (since === undefined) marks.push({ name, since: formatTime(now) });
    }
  }
  return { marks, missing };
}
