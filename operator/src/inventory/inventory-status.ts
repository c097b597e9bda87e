/**
 * The DeviceInventory status a sync implies, and when the next sync is due. Pure: the reconciler
 * writes what these return and turns the outcome into an Event and metrics.
 */
import {
  formatTime,
  setConditionAt,
  type DeviceInventory,
  type DeviceInventoryStatus,
  type InventoryFailedEntry,
  type InventoryFoundEntry,
} from '@switchforge/platform/crd';
import { nextRunInMs } from '../device-source/schedule.js';

/** Entries each status list holds at most (the CRD's maxItems); the counts stay whole. */
export const STATUS_LIST_MAX = 5000;
const MESSAGE_MAX = 1024;

export interface SyncResult {
  found: InventoryFoundEntry[];
  failed: InventoryFailedEntry[];
  filtered: number;
  gone: number;
  pages: number;
}

export function syncSummary(r: SyncResult): string {
  return `found ${r.found.length}, failed ${r.failed.length}, filtered ${r.filtered}, gone ${r.gone} (${r.pages} pages)`;
}

/** A sync that read the inventory: Ready True, SyncFailed False, the lists and counts. */
export function syncStatus(inventory: DeviceInventory, result: SyncResult, now: Date): DeviceInventoryStatus {
  const generation = inventory.metadata.generation;
  const summary = syncSummary(result);
  let conditions = setConditionAt(
    inventory.status?.conditions,
    generation,
    { type: 'Ready', status: 'True', reason: 'Synced', message: summary },
    now,
  );
  conditions = setConditionAt(
    conditions,
    generation,
    { type: 'SyncFailed', status: 'False', reason: 'Synced', message: '' },
    now,
  );
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions,
    lastSyncTime: formatTime(now),
    found: result.found.slice(0, STATUS_LIST_MAX),
    failed: result.failed
      .slice(0, STATUS_LIST_MAX)
      .map((f) => ({ ...f, message: f.message.slice(0, MESSAGE_MAX) })),
    foundCount: result.found.length,
    failedCount: result.failed.length,
    filteredCount: result.filtered,
    goneCount: result.gone,
    pages: result.pages,
  };
}

/**
 * A sync that could not read the inventory (token refused, timeout, invalid JSON, a missing
 * Secret): Ready False and SyncFailed True with the reason; the last lists are kept, and no Device
 * is marked gone (an inventory that cannot be read lists nothing, which is not "everything left").
 */
export function syncFailedStatus(
  inventory: DeviceInventory,
  reason: string,
  message: string,
  now: Date,
): DeviceInventoryStatus {
  const generation = inventory.metadata.generation;
  const text = message.slice(0, MESSAGE_MAX);
  let conditions = setConditionAt(
    inventory.status?.conditions,
    generation,
    { type: 'Ready', status: 'False', reason, message: text },
    now,
  );
  conditions = setConditionAt(
    conditions,
    generation,
    { type: 'SyncFailed', status: 'True', reason, message: text },
    now,
  );
  return {
    ...inventory.status,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions,
    lastSyncTime: formatTime(now),
  };
}

/** Milliseconds until the next sync (see nextRunInMs): at once after a spec change. */
export function nextSyncInMs(inventory: DeviceInventory, now: Date): number {
  return nextRunInMs(inventory, inventory.status?.lastSyncTime, now);
}
