/**
 * The DeviceProfile custom resource (switchforge.io/v1alpha1): what many Devices share. A Device
 * names one in `spec.profileRef` (same namespace) and inherits each field it leaves unset. Field
 * names are those of crds/deviceprofile.yaml, whose spec fields are the Device's own;
 * schema-sync.test.ts holds the three together.
 *
 * The merge (`effectiveDeviceSpec`), field by field:
 * - a field the Device sets replaces the profile's whole. Objects are not merged key by key: the
 *   schema defaults fill a Device's `tls`, `ssh` and `backup` (`hostKeyVerification: Strict`,
 *   `enabled: true`), so a deep merge would always override the profile with those defaults, and
 *   half of a Device's TLS settings over half of a profile's can form a pair the schema forbids
 *   (`skipVerify` with a CA);
 * - `subscriptions`: the Device's list, when it has one (even empty), replaces the profile's.
 *   Merging by path would leave a Device no way to drop one of its profile's subscriptions, and
 *   NETCONF subscriptions have no path to merge by;
 * - `labels`: merged key by key, the Device's value winning;
 * - a profile without a protocol serves gNMI and NETCONF Devices alike: each takes, of the
 *   profile, what fits its protocol (tls, encoding, subscriptionMode and path subscriptions for
 *   gNMI; ssh and filter subscriptions for NETCONF), as DeviceDiscovery's template does. A
 *   profile's port applies only to its own protocol.
 *
 * The Device's schema cannot check what depends on a protocol only its profile names; the merged
 * spec is checked here (`ProfileInvalid`), with the schema's messages.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition } from './conditions.js';
import {
  DEFAULT_PROTOCOL,
  DeviceConditionReason,
  type Device,
  type DeviceProtocol,
  type DeviceSpec,
  type DeviceSubscription,
  type EffectiveDeviceSpec,
} from './device.js';

/** Any Device spec field but the address, and the profile reference itself. */
export type DeviceProfileSettings = Omit<DeviceSpec, 'address' | 'profileRef'>;

/** How an edit of the profile reaches its Devices (see operator/src/device/profile-rollout.ts). */
export interface DeviceProfileRollout {
  /**
   * Devices updated at once: a count, or a percentage of the profile's Devices rounded up
   * (default 10%, at least 1). A Device counts until its worker has applied the edit.
   */
  maxConcurrent?: number | string;
}

/** The shared settings, and how an edit of them rolls out; `rollout` is not merged into Devices. */
export type DeviceProfileSpec = DeviceProfileSettings & { rollout?: DeviceProfileRollout };

export const DEFAULT_PROFILE_MAX_CONCURRENT = '10%';

/** The RolledOut condition's reasons. */
export const ProfileRolloutReason = {
  /** Every Device's worker applied this generation. */
  RolloutComplete: 'RolloutComplete',
  /** Devices are being updated, at most maxConcurrent at a time. */
  Progressing: 'Progressing',
} as const;

export interface DeviceProfileStatus {
  observedGeneration?: number;
  /** How many Devices in the namespace name this profile in spec.profileRef. */
  devices?: number;
  /** Of those, how many run on this generation: merged, and applied by their worker. */
  updatedDevices?: number;
  /** RolledOut: True once every Device is updated; False (Progressing) while the edit rolls out. */
  conditions?: Condition[];
}

export interface DeviceProfile {
  apiVersion: 'switchforge.io/v1alpha1';
  kind: 'DeviceProfile';
  metadata: V1ObjectMeta;
  spec: DeviceProfileSpec;
  status?: DeviceProfileStatus;
}

/** Why a Device's spec cannot be merged with its profile; `reason` is the Connected condition's. */
export abstract class ProfileError extends Error {
  abstract readonly reason: DeviceConditionReason;
}

export class ProfileNotFound extends ProfileError {
  readonly reason = DeviceConditionReason.ProfileNotFound;
  constructor(
    readonly namespace: string,
    readonly profile: string,
  ) {
    super(`DeviceProfile ${namespace}/${profile} (spec.profileRef) does not exist`);
    this.name = 'ProfileNotFound';
  }
}

export class ProfileCredentialsMissing extends ProfileError {
  readonly reason = DeviceConditionReason.ProfileCredentialsMissing;
  constructor(readonly profile: string | undefined) {
    super(
      profile === undefined
        ? 'spec.credentials is required without a profileRef'
        : `neither the Device nor its DeviceProfile ${profile} sets credentials.secretRef`,
    );
    this.name = 'ProfileCredentialsMissing';
  }
}

export class ProfileInvalid extends ProfileError {
  readonly reason = DeviceConditionReason.ProfileInvalid;
  constructor(
    readonly profile: string,
    /** The field of the merged spec, e.g. `spec.ssh.hostKeySecretRef`. */
    readonly field: string,
    readonly detail: string,
  ) {
    super(`the Device merged over DeviceProfile ${profile}: ${field}: ${detail}`);
    this.name = 'ProfileInvalid';
  }
}

const GNMI_ONLY = ['tls', 'encoding', 'subscriptionMode'] as const;

const fits = (protocol: DeviceProtocol) => (s: DeviceSubscription) =>
  protocol === 'gnmi' ? s.path !== undefined : s.filter !== undefined;

/**
 * The spec a Device's worker collects with: its own fields over its profile's (the rules are in
 * this file's header). `profile` is the one `spec.profileRef` names, looked up by the caller;
 * without a profileRef it is ignored. Throws ProfileNotFound, ProfileCredentialsMissing or
 * ProfileInvalid.
 */
export function effectiveDeviceSpec(
  device: Pick<Device, 'metadata' | 'spec'>,
  profile: DeviceProfile | undefined,
): EffectiveDeviceSpec {
  const { profileRef, ...own } = device.spec;
  if (!profileRef) {
    const { credentials, protocol = DEFAULT_PROTOCOL, ...rest } = own;
    if (!credentials) throw new ProfileCredentialsMissing(undefined);
    return { ...rest, protocol, credentials };
  }
  const namespace = device.metadata.namespace ?? '';
  if (
    !profile ||
    profile.metadata.name !== profileRef.name ||
    (profile.metadata.namespace ?? '') !== namespace
  ) {
    throw new ProfileNotFound(namespace, profileRef.name);
  }
  const { rollout: _rollout, ...from } = profile.spec;
  const protocol = own.protocol ?? from.protocol ?? DEFAULT_PROTOCOL;
  // What of the profile applies to this Device's protocol.
  const inherited: DeviceProfileSettings = { ...from };
  if (protocol !== 'gnmi') for (const field of GNMI_ONLY) delete inherited[field];
  if (protocol !== 'netconf') delete inherited.ssh;
  if (from.protocol !== undefined && from.protocol !== protocol) delete inherited.port;
  if (from.subscriptions) inherited.subscriptions = from.subscriptions.filter(fits(protocol));

  const merged: DeviceProfileSettings = { ...inherited };
  for (const [field, value] of Object.entries(own) as [keyof DeviceProfileSettings, unknown][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[field] = value;
  }
  // A poll interval belongs to the merged mode: the profile's only when the merged mode polls.
  if (own.pollInterval === undefined && merged.subscriptionMode !== 'poll') delete merged.pollInterval;
  const labels = { ...from.labels, ...own.labels };
  if (Object.keys(labels).length > 0) merged.labels = labels;
  else delete merged.labels;
  if (inherited.subscriptions?.length === 0 && own.subscriptions === undefined) delete merged.subscriptions;

  const { credentials, ...rest } = merged;
  if (!credentials) throw new ProfileCredentialsMissing(profileRef.name);
  const spec: EffectiveDeviceSpec = { address: own.address, ...rest, protocol, credentials };
  const problem = mergedSpecProblem(spec);
  if (problem) throw new ProfileInvalid(profileRef.name, problem.field, problem.message);
  return spec;
}

/**
 * The Device schema's protocol rules, on a merged spec: the first one it breaks. Their messages
 * are the schema's (crds/device.yaml).
 */
export function mergedSpecProblem(spec: EffectiveDeviceSpec): { field: string; message: string } | undefined {
  const gnmi = spec.protocol === 'gnmi';
  const subscriptions = spec.subscriptions ?? [];
  const rules: Array<[boolean, string, string]> = [
    [gnmi || !spec.tls, 'spec.tls', 'tls applies to protocol gnmi only; NETCONF runs over SSH (see ssh)'],
    [!gnmi || !spec.ssh, 'spec.ssh', 'ssh applies to protocol netconf only; gNMI uses tls'],
    [
      gnmi || spec.ssh?.hostKeySecretRef !== undefined || spec.ssh?.hostKeyVerification === 'Disabled',
      'spec.ssh.hostKeySecretRef',
      'protocol netconf needs ssh.hostKeySecretRef, unless ssh.hostKeyVerification is set to Disabled',
    ],
    [gnmi || spec.encoding === undefined, 'spec.encoding', 'encoding applies to protocol gnmi only'],
    [
      gnmi || spec.subscriptionMode === undefined,
      'spec.subscriptionMode',
      'subscriptionMode applies to protocol gnmi only; NETCONF subscriptions poll on their interval',
    ],
    [
      (spec.subscriptionMode === 'poll') === (spec.pollInterval !== undefined),
      'spec.pollInterval',
      'pollInterval is required with subscriptionMode poll and only allowed with it',
    ],
    [
      spec.subscriptionMode === undefined ||
        spec.subscriptionMode === 'stream' ||
        subscriptions.every((s) => s.mode === undefined),
      'spec.subscriptions',
      "a subscription's mode (sample, on-change) applies to subscriptionMode stream only; poll and once read every path whole",
    ],
    [
      !gnmi || subscriptions.every((s) => s.path !== undefined),
      'spec.subscriptions',
      'protocol gnmi needs a path in every subscription (filter and interval are for netconf)',
    ],
    [
      gnmi || subscriptions.every((s) => s.filter !== undefined && s.interval !== undefined),
      'spec.subscriptions',
      'protocol netconf needs a filter and an interval in every subscription (path, mode and sampleInterval are for gnmi)',
    ],
  ];
  const broken = rules.find(([holds]) => !holds);
  return broken ? { field: broken[1], message: broken[2] } : undefined;
}

/**
 * The Device as its worker sees it: with a profileRef, the merged spec the operator wrote to
 * `status.effectiveSpec` (undefined until it has); without one, its own spec with the protocol
 * default filled in.
 */
export function deviceAsCollected(device: Device): Device | undefined {
  if (device.spec.profileRef) {
    const effective = device.status?.effectiveSpec;
    return effective ? { ...device, spec: effective } : undefined;
  }
  return { ...device, spec: { ...device.spec, protocol: device.spec.protocol ?? DEFAULT_PROTOCOL } };
}
