/**
 * Syncs one DeviceInventory when it is due: reads its pages, maps the entries, server-side applies
 * a Device for each that maps, marks the Devices it created and no longer lists, and writes
 * status, an Event and metrics. A sync that cannot read the inventory changes no Device.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { metrics } from '@opentelemetry/api';
import {
  ANNOTATION_INVENTORY_GONE_SINCE,
  DEFAULT_INVENTORY_MAX_ENTRIES,
  DEFAULT_INVENTORY_MAX_PAGES,
  DEFAULT_INVENTORY_TIMEOUT,
  DEVICE_INVENTORY,
  parseDuration,
  type Device,
  type DeviceInventory,
  type DeviceInventorySpec,
  type InventoryFailedEntry,
  type InventoryFoundEntry,
} from '@switchforge/platform/crd';
import { MANAGER } from '@switchforge/platform/device-worker';
import { splitKey, type Lister } from '@switchforge/platform/kube';
import { log } from '@switchforge/platform/log';
import type { ReconcileResult, Reconciler } from '../machinery/controller.js';
import { EventRecorder } from '../machinery/event-recorder.js';
import { applyRefusal } from '../device/apply-refusal.js';
import { SourceWrites, ownedBy, type SourceClients } from '../device-source/owned-devices.js';
import { retryAfterFailureMs } from '../device-source/schedule.js';
import {
  DiscoverySecretError,
  requireSecret,
  secretKey,
  type SecretReader,
} from '../discovery/probe-settings.js';
import { desiredInventoryDevice } from './inventory-device.js';
import { mapEntries } from './inventory-entries.js';
import {
  InventoryFetchError,
  fetchInventory,
  type FetchOptions,
  type FetchedInventory,
} from './inventory-fetch.js';
import { nextSyncInMs, syncFailedStatus, syncStatus, syncSummary } from './inventory-status.js';

export interface InventoryCaches {
  inventories: Lister<DeviceInventory>;
  devices: Lister<Device>;
}

export interface InventoryClients extends SourceClients {
  core: Pick<CoreV1Api, 'createNamespacedEvent'>;
  readSecret: SecretReader;
}

export type InventoryReader = (options: FetchOptions) => Promise<FetchedInventory>;

const meter = metrics.getMeter('switchforge-operator');
const entryOutcomes = meter.createCounter('switchforge.operator.inventory.entries', {
  description: 'Entries read by DeviceInventory syncs, by outcome (found, failed, filtered, gone)',
});
const syncs = meter.createCounter('switchforge.operator.inventory.syncs', {
  description: 'DeviceInventory syncs, by result (succeeded, failed) and, when failed, reason',
});

/** The token and CA a sync needs, read from their Secrets (and nowhere else). */
export async function fetchSecrets(
  spec: DeviceInventorySpec,
  namespace: string,
  read: SecretReader,
): Promise<Pick<FetchOptions, 'token' | 'ca'>> {
  const { tokenSecretRef, tls } = spec.source;
  const token = tokenSecretRef
    ? secretKey(await requireSecret(read, namespace, tokenSecretRef.name), tokenSecretRef.name, 'token')
        .toString('utf8')
        .trim()
    : undefined;
  const ca = tls?.caSecretRef
    ? secretKey(await requireSecret(read, namespace, tls.caSecretRef.name), tls.caSecretRef.name, 'ca.crt')
    : undefined;
  return { ...(token !== undefined ? { token } : {}), ...(ca ? { ca } : {}) };
}

export class InventoryReconciler implements Reconciler {
  private readonly events: EventRecorder;
  private readonly writes: SourceWrites;

  constructor(
    private readonly caches: InventoryCaches,
    private readonly clients: InventoryClients,
    private readonly read: InventoryReader = fetchInventory,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.events = new EventRecorder(clients.core, MANAGER, now);
    this.writes = new SourceWrites(clients, DEVICE_INVENTORY.plural, ANNOTATION_INVENTORY_GONE_SINCE);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const inventory = this.caches.inventories.get(name, namespace);
    if (!inventory || inventory.metadata.deletionTimestamp) return;
    const wait = nextSyncInMs(inventory, this.now());
    if (wait > 0) return { requeueAfterMs: wait };
    const { spec } = inventory;

    let fetched: FetchedInventory;
    try {
      fetched = await this.read({
        url: spec.source.url,
        ...(await fetchSecrets(spec, namespace, this.clients.readSecret)),
        ...(spec.source.tls?.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
        timeoutMs: parseDuration(spec.timeout ?? DEFAULT_INVENTORY_TIMEOUT),
        maxPages: spec.source.maxPages ?? DEFAULT_INVENTORY_MAX_PAGES,
        maxEntries: spec.source.maxEntries ?? DEFAULT_INVENTORY_MAX_ENTRIES,
      });
    } catch (e) {
      if (!(e instanceof InventoryFetchError) && !(e instanceof DiscoverySecretError)) throw e;
      await this.writes.writeStatus(inventory, syncFailedStatus(inventory, e.reason, e.message, this.now()));
      syncs.add(1, { result: 'failed', reason: e.reason, namespace });
      await this.events.record(inventory, {
        reason: 'SyncFailed',
        message: `${e.reason}: ${e.message}`,
        warning: true,
      });
      log.warn('inventory sync failed', { inventory: key, reason: e.reason, error: e.message });
      return { requeueAfterMs: retryAfterFailureMs(spec.schedule.every) };
    }

    const { mapped, failed: invalid, filtered } = mapEntries(fetched.entries, spec);
    const found: InventoryFoundEntry[] = [];
    const failed: InventoryFailedEntry[] = [...invalid];
    const listed = new Set<string>();
    for (const entry of mapped) {
      const desired = desiredInventoryDevice(inventory, entry);
      const existing = this.caches.devices.get(entry.name, namespace);
      if (existing && !ownedBy(existing, inventory)) {
        failed.push({
          entry: entry.entry,
          reason: 'NameTaken',
          message: `Device ${namespace}/${entry.name} exists and is not owned by this inventory; left alone`,
        });
        continue;
      }
      // Listed, so not gone, whether or not the apiserver takes the Device as mapped.
      listed.add(entry.name);
      try {
        await this.writes.applyDevice(desired);
      } catch (e) {
        const refusal = applyRefusal(e);
        if (!refusal) throw e;
        failed.push({ entry: entry.entry, reason: 'DeviceRejected', message: refusal.message });
        continue;
      }
      found.push({ entry: entry.entry, address: entry.address, device: entry.name });
    }

    const owned = this.caches.devices.list(namespace).filter((d) => ownedBy(d, inventory));
    const gone = await this.writes.markMissing(namespace, owned, listed, this.now());
    const result = { found, failed, filtered, gone, pages: fetched.pages };
    await this.writes.writeStatus(inventory, syncStatus(inventory, result, this.now()));
    const counts = { found: found.length, failed: failed.length, filtered, gone };
    for (const [outcome, n] of Object.entries(counts))
      if (n > 0) entryOutcomes.add(n, { outcome, namespace });
    syncs.add(1, { result: 'succeeded', namespace });
    const message = syncSummary(result);
    await this.events.record(inventory, { reason: 'Synced', message, warning: false });
    log.info('inventory synced', { inventory: key, message });
    return { requeueAfterMs: parseDuration(spec.schedule.every) };
  }
}
