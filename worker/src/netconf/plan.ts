import { devicePort, parseDuration, type Device } from '@switchforge/platform/crd';
import { unitKey, type CollectionUnit } from '../device/collection-plan.js';
import { requireUsername, type DeviceSecrets } from '../device/device-secrets.js';
import { NetconfCollector, type NetconfSubscription } from './collector.js';

const DEFAULT_INTERVAL_MS = 30_000;

/** A NETCONF Device is one unit: one SSH session polls every filter at its own interval. */
export function planNetconf(device: Device, secrets: DeviceSecrets): CollectionUnit[] {
  const spec = device.spec;
  const subscriptions: NetconfSubscription[] = (spec.subscriptions ?? []).map((s) => ({
    source: 'get',
    ...(s.filter ? { filter: { type: s.filter.type, value: s.filter.value } } : {}),
    intervalMs: s.interval ? parseDuration(s.interval) : DEFAULT_INTERVAL_MS,
  }));
  const verification = spec.ssh?.hostKeyVerification === 'Disabled' ? 'disabled' : 'pinned';
  const config = {
    deviceName: `${device.metadata.namespace}/${device.metadata.name}`,
    address: spec.address,
    port: devicePort(spec),
    username: requireUsername(secrets),
    password: secrets.password,
    privateKey: secrets.privateKey,
    hostKey: secrets.hostKey,
    hostKeyVerification: verification,
    subscriptions,
  } as const;
  return [{ key: unitKey(config), create: () => new NetconfCollector(config) }];
}
