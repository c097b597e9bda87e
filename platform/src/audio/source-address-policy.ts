import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AudioInputError } from './input-error.js';

/**
 * Which addresses a job's source URL may reach. The audio worker runs inside the cluster and a
 * source URL comes from whoever may create an AudioJob, so by default nothing internal is
 * reachable: loopback, link-local (cloud metadata), private, shared (CGNAT) and unique-local
 * ranges, unspecified, multicast and reserved addresses, and the cluster's own ranges.
 */
export interface SourcePolicyConfig {
  /** Host names (exact, case-insensitive) trusted whatever they resolve to. */
  readonly allowHosts?: readonly string[];
  /** CIDR ranges reachable although a default rule forbids them (a NAS on 10.1.2.0/24). */
  readonly allowCidrs?: readonly string[];
  /** The cluster's pod and service ranges: refused even when an allow range covers them. */
  readonly clusterCidrs?: readonly string[];
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Default-forbidden ranges, by the name the refusal gives. Order: the first match names it. */
const FORBIDDEN: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']],
  ['shared (CGNAT)', ['100.64.0.0/10']],
  ['unique-local', ['fc00::/7', 'fec0::/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  [
    'reserved',
    [
      '192.0.0.0/24',
      '192.0.2.0/24',
      '198.18.0.0/15',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '240.0.0.0/4',
      '::/96', // IPv4-compatible (deprecated): would hide an IPv4 address
      '64:ff9b:1::/48',
      '100::/64',
      '2001::/32', // Teredo: the client's IPv4 address, obfuscated
      '2001:db8::/32',
    ],
  ],
];

const FORBIDDEN_RANGES: ReadonlyArray<readonly [string, readonly Range[]]> = FORBIDDEN.map(
  ([name, cidrs]) => [name, cidrs.map((c) => ipaddr.parseCIDR(c) as Range)] as const,
);

/** Whether an address may be reached, and if not, why. */
export type AddressVerdict =
  | { readonly allowed: true }
  /** `judgedAs`: the IPv4 address an IPv6 form carries, which is what was judged. */
  | { readonly allowed: false; readonly why: string; readonly judgedAs?: string };

export class SourceAddressPolicy {
  private readonly allowHosts: ReadonlySet<string>;
  private readonly allowRanges: readonly Range[];
  private readonly clusterRanges: readonly Range[];

  /** Throws an Error naming the bad entry (configuration, not job input). */
  constructor(config: SourcePolicyConfig = {}) {
    this.allowHosts = new Set((config.allowHosts ?? []).map((h) => normalizeHost(h)));
    this.allowRanges = (config.allowCidrs ?? []).map((c) => parseRange(c, 'allowCidrs'));
    this.clusterRanges = (config.clusterCidrs ?? []).map((c) => parseRange(c, 'clusterCidrs'));
  }

  hostAllowed(hostname: string): boolean {
    return this.allowHosts.has(normalizeHost(hostname));
  }

  check(address: string): AddressVerdict {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.parse(address.replace(/%.*$/, ''));
    } catch {
      return { allowed: false, why: 'not an IP address' };
    }
    // An IPv6 form of an IPv4 address is judged as that IPv4 address (::ffff:127.0.0.1 is loopback).
    const v4 = embeddedIPv4(ip);
    const judgedAs = v4 ? { judgedAs: v4.toString() } : {};
    if (v4) ip = v4;
    if (matchesAny(ip, this.clusterRanges))
      return { allowed: false, why: 'in the cluster’s own range', ...judgedAs };
    if (matchesAny(ip, this.allowRanges)) return { allowed: true };
    for (const [name, ranges] of FORBIDDEN_RANGES) {
      if (matchesAny(ip, ranges)) return { allowed: false, why: `a ${name} address`, ...judgedAs };
    }
    return { allowed: true };
  }

  /** Throws SourceForbiddenError unless `address` (what `host` resolved to) may be reached. */
  assertAllowed(host: string, address: string): void {
    const verdict = this.check(address);
    if (verdict.allowed) return;
    const what = normalizeHost(host) === normalizeHost(address) ? address : `${host} (${address})`;
    throw new SourceForbiddenError(
      `source address ${what}${verdict.judgedAs ? ` (IPv4 ${verdict.judgedAs})` : ''} is ${verdict.why}: refused (a cluster admin can allow it with audio.sources.allowCidrs or allowHosts)`,
    );
  }
}

/** The source would reach an address the policy forbids: non-retryable, it is the job's input. */
export class SourceForbiddenError extends AudioInputError {
  constructor(message: string) {
    super('SourceForbidden', message);
  }
}

/** Resolves a host name to every address it has; tests pass their own (no real DNS). */
export type HostResolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `net.connect` lookup that resolves once, validates every address and hands the socket only
 * validated ones, so what is connected to is what was checked (no second resolution to rebind).
 */
export function guardedLookup(policy: SourceAddressPolicy, resolver: HostResolver = systemResolver) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: LookupCallback,
  ) => {
    const pick = async (): Promise<LookupAddress[]> => {
      const wanted = (await resolver(hostname)).filter((a) => familyMatches(a.family, options.family));
      if (wanted.length === 0) {
        const e: NodeJS.ErrnoException = new Error(`${hostname} has no address`);
        e.code = 'ENOTFOUND';
        throw e;
      }
      if (!policy.hostAllowed(hostname)) for (const a of wanted) policy.assertAllowed(hostname, a.address);
      return wanted;
    };
    pick().then(
      (wanted) => {
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (e: NodeJS.ErrnoException) => callback(e, ''),
    );
  };
}

/** For a URL whose host is an IP literal (no lookup happens): refuse it before connecting. */
export function assertLiteralHostAllowed(policy: SourceAddressPolicy, url: URL): void {
  const host = normalizeHost(url.hostname);
  if (isIP(host) && !policy.hostAllowed(host)) policy.assertAllowed(host, host);
}

function embeddedIPv4(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (ip.kind() !== 'ipv6') return undefined;
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const b = v6.toByteArray();
  const v4 = (off: number) => new ipaddr.IPv4(b.slice(off, off + 4));
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry the IPv4 address they reach.
  if (v6.match(ipaddr.parseCIDR('64:ff9b::/96') as Range)) return v4(12);
  if (v6.match(ipaddr.parseCIDR('2002::/16') as Range)) return v4(2);
  return undefined;
}

function matchesAny(ip: ipaddr.IPv4 | ipaddr.IPv6, ranges: readonly Range[]): boolean {
  return ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match([net, bits]));
}

function parseRange(cidr: string, field: string): Range {
  try {
    const [net, bits] = ipaddr.parseCIDR(cidr.trim());
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8, as addresses are judged in their IPv4 form.
    if (net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96)
      return [(net as ipaddr.IPv6).toIPv4Address(), bits - 96];
    return [net, bits];
  } catch {
    throw new Error(`audio source policy ${field}: ${JSON.stringify(cidr)} is not a CIDR range`);
  }
}

function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

function familyMatches(family: number, wanted: number | string | undefined): boolean {
  if (wanted === undefined || wanted === 0) return true;
  return family === (wanted === 'IPv4' ? 4 : wanted === 'IPv6' ? 6 : wanted);
}

/** The variables a worker reads its policy from (comma lists); the operator passes them to the pool. */
export const SOURCE_POLICY_ENV = {
  allowHosts: 'AUDIO_SOURCE_ALLOW_HOSTS',
  allowCidrs: 'AUDIO_SOURCE_ALLOW_CIDRS',
  clusterCidrs: 'AUDIO_SOURCE_CLUSTER_CIDRS',
} as const;

export function sourcePolicyFromEnv(env: NodeJS.ProcessEnv): SourceAddressPolicy {
  const list = (name: string) =>
    (env[name] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return new SourceAddressPolicy({
    allowHosts: list(SOURCE_POLICY_ENV.allowHosts),
    allowCidrs: list(SOURCE_POLICY_ENV.allowCidrs),
    clusterCidrs: list(SOURCE_POLICY_ENV.clusterCidrs),
  });
}
