import { createHash } from 'node:crypto';
import type { Device } from '@switchforge/platform/crd';
import type { Collector } from './sample.js';

/**
 * How a protocol splits a Device into independently running collectors. A unit's key changes
 * exactly when that unit must restart, so a spec edit restarts only the units it touches: gNMI
 * runs one Subscribe stream per subscription (sharing one HTTP/2 connection), NETCONF one
 * session for all its polled filters.
 */
export interface CollectionUnit {
  key: string;
  create(): Collector;
}

export type CollectionPlanner = (device: Device) => CollectionUnit[];

/** A unit key from everything that shapes its session; hashed so credentials never show in logs. */
export function unitKey(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}
