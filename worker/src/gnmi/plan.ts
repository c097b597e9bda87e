import { createHash } from 'node:crypto';
import {
  DEFAULT_ENCODING,
  DEFAULT_STREAM_MODE,
  DEFAULT_SUBSCRIPTION_MODE,
  devicePort,
  parseDuration,
  type Device,
  type StreamMode,
} from '@switchforge/platform/crd';
import { unitKey, type CollectionUnit } from '../device/collection-plan.js';
import { requireUsername, type DeviceSecrets } from '../device/device-secrets.js';
import type { GnmiTls } from './client.js';
import { GnmiCollector, type GnmiCollectorConfig, type GnmiSubscriptionMode } from './collector.js';

const STREAM_MODES: Record<StreamMode, GnmiSubscriptionMode> = {
  sample: 'sample',
  'on-change': 'on_change',
  'target-defined': 'target_defined',
};

/**
 * A gNMI Device as collection units. In STREAM mode each subscription is its own Subscribe RPC,
 * so adding or removing one leaves the others streaming (grpc-js shares one HTTP/2 connection
 * between them). POLL and ONCE keep the whole list in one RPC, as gNMI defines them.
 */
export function planGnmi(device: Device, secrets: DeviceSecrets): CollectionUnit[] {
  const spec = device.spec;
  const tls: GnmiTls = spec.tls?.insecure
    ? { mode: 'insecure' }
    : {
        mode: 'tls',
        ...(secrets.caPem ? { ca: secrets.caPem } : {}),
        ...(secrets.clientCertPem && secrets.clientKeyPem
          ? { cert: secrets.clientCertPem, key: secrets.clientKeyPem }
          : {}),
        ...(spec.tls?.serverName ? { serverName: spec.tls.serverName } : {}),
        ...(spec.tls?.skipVerify ? { skipVerify: true } : {}),
      };
  const mode = spec.subscriptionMode ?? DEFAULT_SUBSCRIPTION_MODE;
  const base: Omit<GnmiCollectorConfig, 'subscriptions'> = {
    deviceName: `${device.metadata.namespace}/${device.metadata.name}`,
    address: spec.address,
    port: devicePort(spec),
    tls,
    credentials: { username: requireUsername(secrets), password: secrets.password ?? '' },
    mode,
    encoding: spec.encoding ?? DEFAULT_ENCODING,
    ...(spec.pollInterval ? { pollInterval: parseDuration(spec.pollInterval) } : {}),
  };
  const subscriptions = (spec.subscriptions ?? [])
    .filter((s) => s.path)
    .map((s) => ({
      path: s.origin && !s.path!.includes(':/') ? `${s.origin}:${s.path}` : s.path!,
      mode: STREAM_MODES[s.mode ?? DEFAULT_STREAM_MODE],
      ...(s.sampleInterval ? { sampleInterval: parseDuration(s.sampleInterval) } : {}),
      ...(s.heartbeatInterval ? { heartbeatInterval: parseDuration(s.heartbeatInterval) } : {}),
    }));
  // The key holds everything that needs a new session: a change to it restarts that unit only.
  const connectionKey = JSON.stringify({
    ...base,
    tls: spec.tls ?? null,
    // A rotated password or certificate needs a new session; the hash keeps secrets out of logs.
    secrets: createHash('sha256').update(JSON.stringify(secrets)).digest('hex'),
  });
  const groups = mode === 'stream' ? subscriptions.map((s) => [s]) : [subscriptions];
  return groups
    .filter((g) => g.length > 0)
    .map((group) => ({
      key: unitKey(connectionKey, group),
      create: () => new GnmiCollector({ ...base, subscriptions: group }),
    }));
}
