/**
 * From the entries an inventory lists (NetBox's /api/dcim/devices/ results, or any JSON objects)
 * to the Devices they become: the filter, then the name, address and labels each entry maps to,
 * then the duplicates. Pure, and the one conversion step: an entry that cannot become a Device is
 * a failed entry with a reason, and the others go on.
 */
import { isIP } from 'node:net';
import {
  DEFAULT_INVENTORY_MAPPING,
  DEFAULT_INVENTORY_STATUSES,
  type DeviceInventorySpec,
  type InventoryFailedEntry,
  type InventoryMapping,
} from '@switchforge/platform/crd';
import { deviceName } from '../discovery/targets.js';

/** An entry that maps to a Device. */
export interface MappedEntry {
  /** The entry's name as the inventory gives it (or `#<index>`). */
  entry: string;
  /** The Device's name: the entry's, sanitised. */
  name: string;
  /** An IP address, its /prefix stripped. */
  address: string;
  /** Label name (as the mapping names it) to the entry's value. */
  labels: Record<string, string>;
  tags: string[];
}

export interface MappedEntries {
  mapped: MappedEntry[];
  failed: InventoryFailedEntry[];
  /** Entries the filter left out. */
  filtered: number;
}

/** The value at a dotted path (`primary_ip4.address`); undefined where any step is missing. */
export function valueAt(entry: unknown, path: string): unknown {
  let value: unknown = entry;
  for (const step of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** The first path that holds a non-empty string (or a number), as a trimmed string. */
export function firstString(entry: unknown, paths: readonly string[]): string | undefined {
  for (const path of paths) {
    const v = valueAt(entry, path);
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** The tags at the first path that holds an array: strings, or objects with a slug (or a name). */
export function tagsOf(entry: unknown, paths: readonly string[]): string[] {
  for (const path of paths) {
    const v = valueAt(entry, path);
    if (!Array.isArray(v)) continue;
    return v.flatMap((t) => {
      const tag = typeof t === 'string' ? t : (firstString(t, ['slug', 'name']) ?? '');
      return tag === '' ? [] : [tag];
    });
  }
  return [];
}

/** An address as an inventory writes it (`192.0.2.1/24`, `2001:db8::1/64`) without its prefix; undefined if not an IP. */
export function addressOf(text: string): string | undefined {
  const address = text.replace(/\/\d{1,3}$/, '');
  return isIP(address) === 0 ? undefined : address.toLowerCase();
}

function mappingOf(spec: DeviceInventorySpec): Required<InventoryMapping> {
  const m = spec.mapping ?? {};
  return {
    name: m.name ?? DEFAULT_INVENTORY_MAPPING.name,
    address: m.address ?? DEFAULT_INVENTORY_MAPPING.address,
    status: m.status ?? DEFAULT_INVENTORY_MAPPING.status,
    tags: m.tags ?? DEFAULT_INVENTORY_MAPPING.tags,
    labels: m.labels ?? DEFAULT_INVENTORY_MAPPING.labels,
  };
}

/** Maps each entry, in the inventory's order; of two entries with one name or address, the first wins. */
export function mapEntries(entries: readonly unknown[], spec: DeviceInventorySpec): MappedEntries {
  const mapping = mappingOf(spec);
  const statuses = spec.filter?.statuses ?? DEFAULT_INVENTORY_STATUSES;
  const requiredTags = spec.filter?.tags ?? [];
  const result: MappedEntries = { mapped: [], failed: [], filtered: 0 };
  const byName = new Map<string, string>();
  const byAddress = new Map<string, string>();
  entries.forEach((raw, index) => {
    const rawName = firstString(raw, mapping.name);
    const entry = rawName ?? `#${index}`;
    const fail = (reason: string, message: string) => result.failed.push({ entry, reason, message });
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      fail('InvalidEntry', 'the entry is not a JSON object');
      return;
    }
    const status = firstString(raw, mapping.status);
    const tags = tagsOf(raw, mapping.tags);
    if (
      (statuses.length > 0 && status !== undefined && !statuses.includes(status)) ||
      !requiredTags.every((t) => tags.includes(t))
    ) {
      result.filtered += 1;
      return;
    }
    if (rawName === undefined) {
      fail('InvalidName', `the entry has no name (${mapping.name.join(', ')})`);
      return;
    }
    let name: string;
    try {
      name = deviceName(rawName);
    } catch {
      fail('InvalidName', `"${rawName}" yields no valid Device name`);
      return;
    }
    const addressText = firstString(raw, mapping.address);
    if (addressText === undefined) {
      fail('NoAddress', `the entry has no address (${mapping.address.join(', ')})`);
      return;
    }
    const address = addressOf(addressText);
    if (address === undefined) {
      fail('InvalidAddress', `"${addressText}" is not an IP address`);
      return;
    }
    const sameName = byName.get(name);
    if (sameName !== undefined) {
      fail('DuplicateName', `the Device name ${name} is also that of entry ${sameName}`);
      return;
    }
    const sameAddress = byAddress.get(address);
    if (sameAddress !== undefined) {
      fail('DuplicateAddress', `the address ${address} is also that of entry ${sameAddress}`);
      return;
    }
    byName.set(name, entry);
    byAddress.set(address, entry);
    const labels: Record<string, string> = {};
    for (const [label, paths] of Object.entries(mapping.labels)) {
      const value = firstString(raw, paths);
      if (value !== undefined) labels[label] = value;
    }
    result.mapped.push({ entry, name, address, labels, tags });
  });
  return result;
}
