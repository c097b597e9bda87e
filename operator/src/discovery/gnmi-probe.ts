/**
 * The gNMI probe: one Capabilities RPC on a channel of its own, with the template's TLS
 * settings (verification on unless the template says otherwise) and the credentials as
 * `username` / `password` metadata, bounded by a deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { gnmiService, type CapabilityResponse } from '@switchforge/platform/gnmi/proto';
import { classifyGrpcError, encodingName, vendorOf, type ProbeOutcome } from './probe-result.js';

export type ProbeTls =
  | { readonly mode: 'insecure' }
  | {
      readonly mode: 'tls';
      readonly ca?: Buffer;
      readonly cert?: Buffer;
      readonly key?: Buffer;
      readonly serverName?: string;
      readonly skipVerify?: boolean;
    };

export interface ProbeLogin {
  readonly username: string;
  readonly password?: string;
  readonly privateKey?: Buffer;
}

export interface GnmiProbeOptions {
  readonly address: string;
  readonly port: number;
  readonly tls: ProbeTls;
  readonly login: ProbeLogin;
  readonly timeoutMs: number;
}

const CapabilitiesClient = grpc.makeGenericClientConstructor(
  { Capabilities: gnmiService.Capabilities },
  'gNMI',
);

function channelCredentials(tls: ProbeTls): grpc.ChannelCredentials {
  if (tls.mode === 'insecure') return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    tls.ca ?? null,
    tls.key ?? null,
    tls.cert ?? null,
    tls.skipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

export async function probeGnmi(options: GnmiProbeOptions): Promise<ProbeOutcome> {
  const { address, port, tls, login, timeoutMs } = options;
  const channelOptions: grpc.ChannelOptions = {
    'grpc.enable_retries': 0,
    // A probe's channel is its own: a shared subchannel would let one target's state leak into another's.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  };
  if (tls.mode === 'tls' && tls.serverName) {
    channelOptions['grpc.ssl_target_name_override'] = tls.serverName;
    channelOptions['grpc.default_authority'] = tls.serverName;
  }
  const host = address.includes(':') ? `[${address}]` : address;
  const client = new CapabilitiesClient(`${host}:${port}`, channelCredentials(tls), channelOptions);
  const metadata = new grpc.Metadata();
  metadata.set('username', login.username);
  if (login.password !== undefined) metadata.set('password', login.password);
  const def = gnmiService.Capabilities;
  try {
    const response = await new Promise<CapabilityResponse>((resolve, reject) => {
      client.makeUnaryRequest<object, CapabilityResponse>(
        def.path,
        def.requestSerialize as (r: object) => Buffer,
        def.responseDeserialize,
        {},
        metadata,
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err || !res ? reject(err ?? new Error('empty Capabilities response')) : resolve(res)),
      );
    });
    const models = (response.supported_models ?? []).map((m) => `${m.name ?? ''}@${m.version ?? ''}`);
    const vendor = vendorOf(
      (response.supported_models ?? []).map((m) => `${m.organization ?? ''} ${m.name ?? ''}`),
    );
    return {
      kind: 'answered',
      protocol: 'gnmi',
      port,
      facts: {
        models,
        encodings: (response.supported_encodings ?? []).map((e) => encodingName(Number(e))),
        ...(response.gNMI_version ? { gnmiVersion: response.gNMI_version } : {}),
        ...(vendor ? { vendor } : {}),
      },
    };
  } catch (e) {
    const err = e as Partial<grpc.ServiceError> & Error;
    const details = err.details ?? err.message;
    const { kind, reason } = classifyGrpcError(err.code, details);
    return { kind, protocol: 'gnmi', port, reason, message: details };
  } finally {
    client.close();
  }
}
