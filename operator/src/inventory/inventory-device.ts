/** The Device an inventory entry becomes, owned by (and labelled with) its DeviceInventory. Pure. */
import {
  API_VERSION,
  INVENTORY_LABEL_PREFIX,
  LABEL_INVENTORY,
  type Device,
  type DeviceInventory,
  type DeviceSpec,
} from '@switchforge/platform/crd';
import { LABEL_MANAGED_BY, MANAGER } from '@switchforge/platform/device-worker';
import { labelValue } from '../discovery/probe-result.js';
import { ownerReference } from '../device-source/owned-devices.js';
import type { MappedEntry } from './inventory-entries.js';

/** A Device spec label name (a sample label): `^[A-Za-z_][A-Za-z0-9_]*$`, at most 63. */
const SAMPLE_LABEL = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** The name part of a Kubernetes label key. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * The object labels an entry gives its Device: `inventory.switchforge.io/<label>` with each mapped
 * value, and `inventory.switchforge.io/tag-<tag>: "true"` for each tag (so `-l
 * inventory.switchforge.io/tag-core` selects them). A value or tag that no label can hold is left out.
 */
export function entryLabels(entry: MappedEntry): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [label, value] of Object.entries(entry.labels)) {
    const v = labelValue(value);
    if (v !== undefined && LABEL_NAME.test(label)) labels[`${INVENTORY_LABEL_PREFIX}${label}`] = v;
  }
  for (const tag of entry.tags) {
    const t = labelValue(tag);
    if (t !== undefined && LABEL_NAME.test(`tag-${t}`)) labels[`${INVENTORY_LABEL_PREFIX}tag-${t}`] = 'true';
  }
  return labels;
}

/**
 * The Device for an entry: the template's fields, the entry's address, and sample labels the
 * template's merged with the entry's mapped ones (the entry's winning: they differ per Device).
 */
export function desiredInventoryDevice(inventory: DeviceInventory, entry: MappedEntry): Device {
  const t = inventory.spec.deviceTemplate;
  const { labels: templateLabels, ...fields } = t;
  const mapped = Object.fromEntries(
    Object.entries(entry.labels)
      .filter(([k]) => SAMPLE_LABEL.test(k) && !k.startsWith('__'))
      .map(([k, v]) => [k, v.slice(0, 256)]),
  );
  const labels = { ...templateLabels, ...mapped };
  const spec: DeviceSpec = {
    ...fields,
    address: entry.address,
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
  };
  return {
    apiVersion: API_VERSION,
    kind: 'Device',
    metadata: {
      name: entry.name,
      namespace: inventory.metadata.namespace!,
      labels: {
        [LABEL_MANAGED_BY]: MANAGER,
        [LABEL_INVENTORY]: inventory.metadata.name!,
        ...entryLabels(entry),
      },
      ownerReferences: [ownerReference(inventory)],
    },
    spec,
  };
}
