/**
 * Fetches a device's running configuration on a short session of its own, independent of the
 * collection sessions: NETCONF `<get-config>` of `running`, or gNMI Get of CONFIG data at `/`
 * in JSON_IETF. Connection settings are the ones the collection planners use.
 */
import { devicePort, type Device } from '@switchforge/platform/crd';
import { UnavailableError } from '@switchforge/platform/errors';
import { requireUsername, type DeviceSecrets } from '../device/device-secrets.js';
import { CollectorError } from '../device/sample.js';
import type { GnmiTls } from '../gnmi/client.js';
import { MalformedMessageError, RpcError, RpcTimeoutError } from '../netconf/errors.js';
import type { ConfigFormat } from './normalize.js';

export interface FetchedConfig {
  /** As the device sent it (XML of the `<data>` element, or JSON text); normalized later. */
  readonly content: string;
  readonly format: ConfigFormat;
}

export interface FetchOptions {
  readonly signal?: AbortSignal;
  readonly connectTimeoutMs?: number;
  /** For the get-config / Get call itself (large configurations take a while). */
  readonly requestTimeoutMs?: number;
}

/** gNMI GetRequest.DataType.CONFIG. */
const GET_CONFIG = 1;

export function fetchRunningConfig(
  device: Device,
  secrets: DeviceSecrets,
  options: FetchOptions = {},
): Promise<FetchedConfig> {
  return device.spec.protocol === 'netconf'
    ? fetchNetconf(device, secrets, options)
    : fetchGnmi(device, secrets, options);
}

function deviceName(device: Device): string {
  return `${device.metadata.namespace}/${device.metadata.name}`;
}

async function fetchNetconf(
  device: Device,
  secrets: DeviceSecrets,
  options: FetchOptions,
): Promise<FetchedConfig> {
  const spec = device.spec;
  // Each protocol's session code loads with its first backup (a gNMI worker never loads ssh2).
  const { NetconfSession } = await import('../netconf/session.js');
  const session = await NetconfSession.connect(
    {
      host: spec.address,
      port: devicePort(spec),
      username: requireUsername(secrets),
      password: secrets.password,
      privateKey: secrets.privateKey,
      hostKey: secrets.hostKey,
      hostKeyVerification: spec.ssh?.hostKeyVerification === 'Disabled' ? 'disabled' : 'pinned',
      device: deviceName(device),
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      rpcTimeoutMs: options.requestTimeoutMs ?? 120_000,
    },
    options.signal,
  );
  const onAbort = (): void => void session.close(0);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return { content: await session.getRunningConfig(), format: 'xml' };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await session.close();
  }
}

/** The same channel security as the collector (see gnmi/plan.ts). */
function gnmiTls(device: Device, secrets: DeviceSecrets): GnmiTls {
  const tls = device.spec.tls;
  if (tls?.insecure) return { mode: 'insecure' };
  return {
    mode: 'tls',
    ...(secrets.caPem ? { ca: secrets.caPem } : {}),
    ...(secrets.clientCertPem && secrets.clientKeyPem
      ? { cert: secrets.clientCertPem, key: secrets.clientKeyPem }
      : {}),
    ...(tls?.serverName ? { serverName: tls.serverName } : {}),
  };
}

async function fetchGnmi(
  device: Device,
  secrets: DeviceSecrets,
  options: FetchOptions,
): Promise<FetchedConfig> {
  const spec = device.spec;
  const [{ GnmiClient }, { Encoding }, { getResponseToJson }] = await Promise.all([
    import('../gnmi/client.js'),
    import('../gnmi/proto.js'),
    import('./gnmi-config.js'),
  ]);
  const client = new GnmiClient({
    address: spec.address,
    port: devicePort(spec),
    tls: gnmiTls(device, secrets),
    credentials: { username: requireUsername(secrets), password: secrets.password ?? '' },
  });
  const onAbort = (): void => client.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await client.get(
      { path: [{ elem: [] }], type: GET_CONFIG, encoding: Encoding.JSON_IETF },
      options.requestTimeoutMs ?? 120_000,
    );
    return { content: JSON.stringify(getResponseToJson(response)), format: 'json' };
  } catch (e) {
    if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'number') {
      throw new UnavailableError(`gNMI Get failed: ${e.message}`, grpcReason((e as { code: number }).code), {
        cause: e,
      });
    }
    throw e;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    client.close();
  }
}

/** gRPC status codes as the session failure reasons the Device conditions use. */
function grpcReason(code: number): string {
  if (code === 16 || code === 7) return 'AuthFailed'; // UNAUTHENTICATED, PERMISSION_DENIED
  if (code === 4) return 'Timeout'; // DEADLINE_EXCEEDED
  if (code === 14) return 'Unreachable'; // UNAVAILABLE
  return 'ProtocolError';
}

/** A failure's reason (CamelCase), for metrics and the backup result. */
export function failureReason(e: unknown): string {
  if (e instanceof CollectorError) return e.reason;
  if (e instanceof RpcTimeoutError) return 'Timeout';
  if (e instanceof RpcError) return 'RpcError';
  if (e instanceof MalformedMessageError) return 'ProtocolError';
  if (e && typeof e === 'object' && 'reason' in e && typeof (e as { reason: unknown }).reason === 'string') {
    return (e as { reason: string }).reason;
  }
  return 'BackupFailed';
}
