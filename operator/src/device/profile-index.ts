/**
 * Devices indexed by the DeviceProfile they name (client-go's indexer, for one index): a profile
 * that changes re-reconciles exactly the Devices that use it, and a Device that changes its
 * profileRef re-counts both profiles.
 */
import type { Device } from '@switchforge/platform/crd';
import { keyOf } from '@switchforge/platform/kube';

export class ProfileIndex {
  /** Device key → the key (namespace/name) of the profile it names. */
  private readonly profileOf = new Map<string, string>();
  private readonly devicesOf = new Map<string, Set<string>>();

  /**
   * Records a Device event; returns the keys of the profiles whose Devices changed (the one it
   * names now and the one it named before), for their `devices` count.
   */
  update(device: Device, kind: 'add' | 'update' | 'delete'): string[] {
    const key = keyOf(device);
    const before = this.profileOf.get(key);
    const ref = device.spec?.profileRef?.name;
    const now = kind === 'delete' || !ref ? undefined : `${device.metadata.namespace ?? ''}/${ref}`;
    if (before === now) return now && kind !== 'update' ? [now] : [];
    if (before) {
      const set = this.devicesOf.get(before);
      set?.delete(key);
      if (set?.size === 0) this.devicesOf.delete(before);
      this.profileOf.delete(key);
    }
    if (now) {
      this.profileOf.set(key, now);
      const set = this.devicesOf.get(now) ?? new Set<string>();
      set.add(key);
      this.devicesOf.set(now, set);
    }
    return [before, now].filter((k): k is string => k !== undefined);
  }

  /** The keys of the Devices that name the profile `profileKey` (namespace/name). */
  devices(profileKey: string): string[] {
    return [...(this.devicesOf.get(profileKey) ?? [])].sort();
  }
}
