/**
 * The DeviceInventory custom resource (switchforge.io/v1alpha1): an HTTP inventory (NetBox's
 * device API the worked example) read on a schedule, a Device created for each entry it lists.
 * Field names are those of crds/deviceinventory.yaml; the template's fields are the Device spec's
 * own (schema-sync.test.ts holds the CRD's template schema equal to the Device's).
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition } from './conditions.js';
import type { DeviceSpec, DurationString, SecretReference } from './device.js';
import type { DeviceTemplate, DiscoverySchedule } from './devicediscovery.js';

export interface InventoryTls {
  /** Secret with key `ca.crt`: the CA the inventory's certificate is checked against. */
  caSecretRef?: SecretReference;
  /** Accepts any certificate. Off unless said so; not with caSecretRef. */
  insecureSkipVerify?: boolean;
}

export interface InventorySource {
  /** http(s) URL of the first page (`https://netbox.example.net/api/dcim/devices/?site=ams1`). */
  url: string;
  /** Secret whose `token` key is sent as `Authorization: Token <token>`. */
  tokenSecretRef?: SecretReference;
  tls?: InventoryTls;
  /** Pages followed through `next` links, at most. Defaults to 50. */
  maxPages?: number;
  /** Entries read, all pages together, at most. Defaults to 1000. */
  maxEntries?: number;
}

/**
 * Where each Device field is read in an inventory entry: lists of dotted paths, the first that
 * holds a value wins. The defaults are NetBox's.
 */
export interface InventoryMapping {
  /** Defaults to [name]; sanitised to a DNS-1123 name. */
  name?: string[];
  /** Defaults to [primary_ip4.address, primary_ip6.address]; a /prefix is stripped. */
  address?: string[];
  /** Defaults to [status.value, status]. */
  status?: string[];
  /** An array of strings or of objects with a slug or name. Defaults to [tags]. */
  tags?: string[];
  /**
   * Label name to paths. Defaults to site: [site.slug], role: [role.slug, device_role.slug],
   * platform: [platform.slug].
   */
  labels?: Record<string, string[]>;
}

export interface InventoryFilter {
  /** Entries whose status is one of these; an entry without a status passes. Defaults to [active]; [] keeps all. */
  statuses?: string[];
  /** Entries carrying every one of these tags. */
  tags?: string[];
}

/** What every created Device gets: the Device spec's own fields, protocol, port and credentials too. */
export type InventoryDeviceTemplate = DeviceTemplate & Pick<DeviceSpec, 'protocol' | 'port' | 'credentials'>;

export interface DeviceInventorySpec {
  source: InventorySource;
  schedule: DiscoverySchedule;
  /** Per page request, connection and body together. Defaults to 10s. */
  timeout?: DurationString;
  mapping?: InventoryMapping;
  filter?: InventoryFilter;
  /** Credentials, or a profileRef whose profile holds them, are required. */
  deviceTemplate: InventoryDeviceTemplate;
}

export interface InventoryFoundEntry {
  /** The entry's name as the inventory gives it. */
  entry: string;
  address: string;
  /** The Device created or updated for it. */
  device: string;
}

export interface InventoryFailedEntry {
  /** The entry's name, or `#<index>` (its place in the listing, from 0) when it has none. */
  entry: string;
  /** CamelCase: NoAddress, InvalidAddress, InvalidName, DuplicateName, DuplicateAddress, NameTaken, DeviceRejected. */
  reason: string;
  message: string;
}

export interface DeviceInventoryStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** RFC 3339: when the last sync (succeeded or failed) finished. */
  lastSyncTime?: string;
  found?: InventoryFoundEntry[];
  failed?: InventoryFailedEntry[];
  foundCount?: number;
  failedCount?: number;
  /** Entries the filter left out. */
  filteredCount?: number;
  /** Devices this inventory created that its last successful sync no longer listed (marked, not deleted). */
  goneCount?: number;
  /** Pages read on the last successful sync. */
  pages?: number;
}

export interface DeviceInventory {
  apiVersion: 'switchforge.io/v1alpha1';
  kind: 'DeviceInventory';
  metadata: V1ObjectMeta;
  spec: DeviceInventorySpec;
  status?: DeviceInventoryStatus;
}

export const DEFAULT_INVENTORY_TIMEOUT: DurationString = '10s';
export const DEFAULT_INVENTORY_MAX_PAGES = 50;
export const DEFAULT_INVENTORY_MAX_ENTRIES = 1000;
export const DEFAULT_INVENTORY_STATUSES: readonly string[] = ['active'];
export const DEFAULT_INVENTORY_MAPPING: Required<InventoryMapping> = {
  name: ['name'],
  address: ['primary_ip4.address', 'primary_ip6.address'],
  status: ['status.value', 'status'],
  tags: ['tags'],
  labels: {
    site: ['site.slug'],
    role: ['role.slug', 'device_role.slug'],
    platform: ['platform.slug'],
  },
};
/** Label on each Device an inventory created: the DeviceInventory's name. */
export const LABEL_INVENTORY = 'switchforge.io/inventory';
/** Annotation on a created Device the inventory no longer lists: RFC 3339, since when. */
export const ANNOTATION_INVENTORY_GONE_SINCE = 'switchforge.io/inventory-gone-since';
/** Prefix of the labels mapped from an entry (`inventory.switchforge.io/site`, `.../tag-core`). */
export const INVENTORY_LABEL_PREFIX = 'inventory.switchforge.io/';
