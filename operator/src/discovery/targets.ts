import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

/** The largest CIDR block a DeviceDiscovery may list: a /24 (256 addresses) bounds one run's probes. */
export const MIN_IPV4_PREFIX = 24;

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

/** One probe target: an IPv4 literal, or a host name resolved later (only through the local resolver). */
export interface Target {
  readonly address: string;
  readonly kind: 'ip' | 'host';
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

/** Expands an IPv4 CIDR block into its addresses, refusing blocks wider than MIN_IPV4_PREFIX. */
export function expandCidr(cidr: string): string[] {
  const [base, prefixText, extra] = cidr.split('/');
  if (base === undefined || prefixText === undefined || extra !== undefined || isIP(base) !== 4) {
    throw new TargetError(`"${cidr}" is not an IPv4 CIDR block`);
  }
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
    throw new TargetError(`"${cidr}" has an invalid prefix length`);
  }
  const prefix = Number(prefixText);
  if (prefix < MIN_IPV4_PREFIX) {
    throw new TargetError(`"${cidr}" is wider than /${MIN_IPV4_PREFIX}`);
  }
  const size = 2 ** (32 - prefix);
  const start = ipv4ToInt(base) - (ipv4ToInt(base) % size);
  return Array.from({ length: size }, (_, i) => intToIpv4(start + i));
}

/** Turns the spec's addresses, host names and CIDR blocks into distinct targets, in order. */
export function expandTargets(entries: readonly string[]): Target[] {
  const seen = new Set<string>();
  const targets: Target[] = [];
  const add = (target: Target): void => {
    if (!seen.has(target.address)) {
      seen.add(target.address);
      targets.push(target);
    }
  };
  for (const entry of entries) {
    if (entry.includes('/')) {
      for (const address of expandCidr(entry)) add({ address, kind: 'ip' });
    } else if (isIP(entry) !== 0) {
      add({ address: entry, kind: 'ip' });
    } else if (HOST_NAME.test(entry)) {
      add({ address: entry.toLowerCase(), kind: 'host' });
    } else {
      throw new TargetError(`"${entry}" is neither an address, a host name nor a CIDR block`);
    }
  }
  return targets;
}

const MAX_NAME = 63;

/**
 * A valid Kubernetes name (DNS-1123 label) from what a target reports about itself; a name that
 * had to be shortened keeps a hash of the original so two long names stay distinct.
 */
export function deviceName(reported: string): string {
  const cleaned = reported
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (cleaned === '') throw new TargetError(`"${reported}" yields no valid name`);
  if (cleaned.length <= MAX_NAME) return cleaned;
  const hash = createHash('sha256').update(reported).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, MAX_NAME - 9).replace(/-$/, '')}-${hash}`;
}
