/**
 * gNMI Notification -> Samples, gnmic-style: each update becomes one sample per leaf, its path
 * key-less (prefix + update path), list keys as labels, the notification's timestamp in ns.
 * Deletes become samples whose value is undefined; a delete of a branch
 * (`/interfaces/interface[name=Ethernet3]`) is one sample for that branch path.
 * Timestamps are kept as the device reported them, out of order or not: the sink is
 * idempotent on (device, path, labels, timestamp), so reordering here would only cost time.
 */
import { appendKeyless, elemsOf } from '@switchforge/platform/gnmi/paths';
import type { Sample, SampleValue } from '../device/sample.js';
import { int64ToBigInt, type Notification } from './proto.js';
import { decodeUpdateValue, flattenJson, isJsonTree } from './values.js';

export interface NotificationContext {
  readonly device: string;
  /** Called once per update or delete that cannot be decoded; the rest still becomes samples. */
  readonly onMalformed: (error: Error) => void;
  /** Used when the device sends timestamp 0 (it must not, some do). */
  readonly now?: () => bigint;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

export class MalformedUpdateError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${message}`, options);
    this.name = 'MalformedUpdateError';
  }
}

export function notificationToSamples(
  n: Notification,
  ctx: NotificationContext,
  out: Sample[] = [],
): Sample[] {
  const device = ctx.device;
  let timestampNs = int64ToBigInt(n.timestamp);
  if (timestampNs === 0n) timestampNs = (ctx.now ?? nowNs)();

  // The prefix is shared by every update: resolve it once.
  const prefixLabels: Record<string, string> = {};
  let prefixPath: string;
  try {
    prefixPath = appendKeyless('', prefixLabels, elemsOf(n.prefix));
  } catch (e) {
    ctx.onMalformed(new MalformedUpdateError('<prefix>', (e as Error).message, { cause: e }));
    return out;
  }
  const prefixHasLabels = hasKeys(prefixLabels);

  const updates = n.update;
  if (updates) {
    for (let i = 0; i < updates.length; i++) {
      const u = updates[i]!;
      let path = prefixPath;
      const labels: Record<string, string> = prefixHasLabels ? { ...prefixLabels } : {};
      try {
        path = appendKeyless(prefixPath, labels, elemsOf(u.path));
        if (path === '') path = '/';
        const value = decodeUpdateValue(u);
        if (isJsonTree(value)) {
          const base = path === '/' ? '' : path;
          flattenJson(value.tree, base, labels, (p, l, v: SampleValue) => {
            out.push({ device, path: p, labels: l, timestampNs, value: v });
          });
        } else {
          out.push({ device, path, labels, timestampNs, value });
        }
      } catch (e) {
        ctx.onMalformed(new MalformedUpdateError(path || '/', (e as Error).message, { cause: e }));
      }
    }
  }

  const deletes = n.delete;
  if (deletes) {
    for (let i = 0; i < deletes.length; i++) {
      const labels: Record<string, string> = prefixHasLabels ? { ...prefixLabels } : {};
      try {
        const path = appendKeyless(prefixPath, labels, elemsOf(deletes[i]));
        out.push({ device, path: path === '' ? '/' : path, labels, timestampNs, value: undefined });
      } catch (e) {
        ctx.onMalformed(new MalformedUpdateError('<delete>', (e as Error).message, { cause: e }));
      }
    }
  }
  return out;
}

function hasKeys(o: Record<string, string>): boolean {
  for (const _ in o) return true;
  return false;
}
