/**
 * What one probe of one target came back with, and the pure steps from there: classifying a
 * failure (refused credentials versus no answer), reading a NETCONF hello, and the labels a
 * Device gets from what its target reported.
 */
import { createHash } from 'node:crypto';
import type { DeviceProtocol } from '@switchforge/platform/crd';
import { DISCOVERED_LABEL_PREFIX } from '@switchforge/platform/crd';

/** What a target said about itself in its gNMI Capabilities or NETCONF hello. */
export interface TargetFacts {
  vendor?: string;
  model?: string;
  softwareVersion?: string;
  /** gNMI: the target's gNMI version. */
  gnmiVersion?: string;
  /** gNMI: supported encodings, lower case (json, json_ietf, proto, ...). */
  encodings?: string[];
  /** gNMI: `name@version` of each supported model; NETCONF: each capability URI. */
  models: string[];
  /** NETCONF: base protocol versions advertised (1.0, 1.1). */
  netconfBase?: string[];
}

export type ProbeOutcome =
  | { kind: 'answered'; protocol: DeviceProtocol; port: number; facts: TargetFacts }
  | { kind: 'refused'; protocol: DeviceProtocol; port: number; reason: string; message: string }
  | { kind: 'unreachable'; protocol: DeviceProtocol; port: number; reason: string; message: string };

export type ProbeFailure = Exclude<ProbeOutcome, { kind: 'answered' }>;

/** gRPC status codes the probe tells apart (grpc.status, without importing grpc here). */
const GRPC = { DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, UNAUTHENTICATED: 16, UNAVAILABLE: 14 } as const;

/** A failed Capabilities RPC: refused credentials, or why there was no usable answer. */
export function classifyGrpcError(
  code: number | undefined,
  details: string,
): { kind: 'refused' | 'unreachable'; reason: string } {
  if (code === GRPC.UNAUTHENTICATED || code === GRPC.PERMISSION_DENIED)
    return { kind: 'refused', reason: 'AuthFailed' };
  if (code === GRPC.DEADLINE_EXCEEDED) return { kind: 'unreachable', reason: 'Timeout' };
  if (/ECONNREFUSED/.test(details)) return { kind: 'unreachable', reason: 'ConnectionRefused' };
  if (/SSL|TLS|certificate|handshake|self.signed/i.test(details))
    return { kind: 'unreachable', reason: 'TLSError' };
  if (code === GRPC.UNAVAILABLE) return { kind: 'unreachable', reason: 'Unreachable' };
  // Something answered, but not as a gNMI target (UNIMPLEMENTED, a protocol error, ...).
  return { kind: 'unreachable', reason: 'NotGnmi' };
}

/** A failed SSH connection (ssh2's error `level`, the socket's `code`). */
export function classifySshError(
  err: { level?: string; code?: string; message: string },
  hostKeyRejected: boolean,
): { kind: 'refused' | 'unreachable'; reason: string } {
  if (hostKeyRejected) return { kind: 'unreachable', reason: 'HostKeyMismatch' };
  if (err.level === 'client-authentication') return { kind: 'refused', reason: 'AuthFailed' };
  if (err.level === 'client-timeout') return { kind: 'unreachable', reason: 'Timeout' };
  if (err.code === 'ECONNREFUSED') return { kind: 'unreachable', reason: 'ConnectionRefused' };
  return { kind: 'unreachable', reason: 'Unreachable' };
}

const ENCODINGS = ['json', 'bytes', 'proto', 'ascii', 'json_ietf'];
export function encodingName(value: number): string {
  return ENCODINGS[value] ?? `encoding-${value}`;
}

/**
 * A vendor named by what the target lists: the organisation (gNMI) or the namespace domain
 * (NETCONF) of its models, the most frequent one that is not a standards body.
 */
const VENDOR_DOMAINS: [RegExp, string][] = [
  [/cisco/i, 'cisco'],
  [/juniper/i, 'juniper'],
  [/arista/i, 'arista'],
  [/nokia|alcatel/i, 'nokia'],
  [/huawei/i, 'huawei'],
  [/sonic|azure/i, 'sonic'],
];
export function vendorOf(sources: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const s of sources) {
    const vendor = VENDOR_DOMAINS.find(([re]) => re.test(s))?.[1];
    if (vendor) counts.set(vendor, (counts.get(vendor) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** The capabilities of a NETCONF <hello>; vendor and base versions from them. */
export function parseHello(xml: string): TargetFacts {
  const capabilities = [
    ...xml.matchAll(/<(?:[\w-]+:)?capability>\s*([^<]*?)\s*<\/(?:[\w-]+:)?capability>/g),
  ].map((m) => m[1]!.replace(/&amp;/g, '&'));
  if (capabilities.length === 0) throw new Error('the NETCONF hello lists no capabilities');
  const base = capabilities
    .map((c) => /^urn:ietf:params:netconf:base:(\d+\.\d+)$/.exec(c)?.[1])
    .filter((v): v is string => v !== undefined);
  const vendor = vendorOf(capabilities);
  return { models: capabilities, netconfBase: base, ...(vendor ? { vendor } : {}) };
}

/** A Kubernetes label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(text: string): string | undefined {
  const cleaned = text
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned === '' ? undefined : cleaned;
}

/**
 * The labels a found Device carries for what its target reported: vendor, model and software
 * version where reported, the encodings, and the models as a count and a hash (a list would not
 * fit a label; the hash changes exactly when the list does).
 */
export function factLabels(protocol: DeviceProtocol, facts: TargetFacts): Record<string, string> {
  const labels: Record<string, string> = { [`${DISCOVERED_LABEL_PREFIX}protocol`]: protocol };
  const set = (key: string, value: string | undefined) => {
    const v = value === undefined ? undefined : labelValue(value);
    if (v !== undefined) labels[`${DISCOVERED_LABEL_PREFIX}${key}`] = v;
  };
  set('vendor', facts.vendor);
  set('model', facts.model);
  set('software-version', facts.softwareVersion);
  set('gnmi-version', facts.gnmiVersion);
  if (facts.encodings?.length) set('encodings', [...facts.encodings].sort().join('.'));
  if (facts.netconfBase?.length) set('netconf-base', [...facts.netconfBase].sort().join('-'));
  labels[`${DISCOVERED_LABEL_PREFIX}models-count`] = String(facts.models.length);
  labels[`${DISCOVERED_LABEL_PREFIX}models-hash`] = createHash('sha256')
    .update([...facts.models].sort().join('\n'))
    .digest('hex')
    .slice(0, 16);
  return labels;
}

export type TargetVerdict =
  | { kind: 'found'; answer: Extract<ProbeOutcome, { kind: 'answered' }> }
  | { kind: 'refused' | 'unreachable'; reason: string; message: string };

/**
 * One target's verdict from its probes, tried in order: the first answer wins; otherwise a
 * refusal of the credentials (the target is there, the login is wrong) outranks no answer.
 */
export function verdictOf(outcomes: readonly ProbeOutcome[]): TargetVerdict {
  const answer = outcomes.find((o) => o.kind === 'answered');
  if (answer?.kind === 'answered') return { kind: 'found', answer };
  const failures = outcomes as readonly ProbeFailure[];
  const refused = failures.filter((o) => o.kind === 'refused');
  const chosen = refused.length > 0 ? refused : failures;
  const message = failures.map((o) => `${o.protocol}:${o.port}: ${o.reason}: ${o.message}`).join('; ');
  return {
    kind: refused.length > 0 ? 'refused' : 'unreachable',
    reason: chosen[0]?.reason ?? 'Unreachable',
    message,
  };
}
