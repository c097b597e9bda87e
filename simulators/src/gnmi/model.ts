/**
 * The OpenConfig-shaped state of one simulated switch: interface counters and oper-status,
 * CPU, memory, temperature and BGP neighbor state. Values move on every read so that
 * consecutive samples differ like a live switch's.
 */
import { parsePath } from '@switchforge/platform/gnmi/paths';
import type { PathElem } from '@switchforge/platform/gnmi/proto';

export type LeafKind = 'counter' | 'gauge' | 'float' | 'state';

export interface Leaf {
  /** Full path from the root. */
  readonly elems: PathElem[];
  readonly kind: LeafKind;
  value: number | string;
  /** For `state` leaves: the values it flaps between on change. */
  readonly states?: readonly string[];
}

export interface SimulatedDevice {
  readonly name: string;
  readonly leaves: Leaf[];
}

export interface ModelOptions {
  readonly interfaces?: number;
  readonly bgpNeighbors?: number;
}

export function buildDevice(name: string, index: number, options: ModelOptions = {}): SimulatedDevice {
  const leaves: Leaf[] = [];
  const add = (path: string, kind: LeafKind, value: number | string, states?: readonly string[]) =>
    leaves.push({ elems: parsePath(path).elem!, kind, value, ...(states ? { states } : {}) });

  for (let i = 0; i < (options.interfaces ?? 8); i++) {
    const p = `/interfaces/interface[name=Ethernet${i}]/state`;
    for (const c of ['in-octets', 'out-octets', 'in-pkts', 'out-pkts', 'in-errors']) {
      add(`${p}/counters/${c}`, 'counter', (index + 1) * 1_000_000 + i * 1000);
    }
    add(`${p}/oper-status`, 'state', 'UP', ['UP', 'DOWN']);
  }
  add('/components/component[name=CPU0]/cpu/utilization/state/instant', 'gauge', 12);
  add('/components/component[name=CPU0]/cpu/utilization/state/avg', 'gauge', 10);
  add('/system/memory/state/physical', 'gauge', 16 * 1024 ** 3);
  add('/system/memory/state/used', 'gauge', 6 * 1024 ** 3);
  add('/components/component[name=TempSensor0]/state/temperature/instant', 'float', 41.5);
  for (let n = 0; n < (options.bgpNeighbors ?? 2); n++) {
    const p = `/network-instances/network-instance[name=default]/protocols/protocol[identifier=BGP][name=BGP]/bgp/neighbors/neighbor[neighbor-address=192.0.2.${n + 1}]/state`;
    add(`${p}/session-state`, 'state', 'ESTABLISHED', ['ESTABLISHED', 'ACTIVE', 'IDLE']);
    add(`${p}/established-transitions`, 'counter', 1);
  }
  return { name, leaves };
}

/** Moves a leaf's value as time passes: counters grow, gauges wander, states stay (see flap). */
export function advance(leaf: Leaf): void {
  switch (leaf.kind) {
    case 'counter':
      leaf.value = (leaf.value as number) + 1 + ((leaf.value as number) % 997);
      break;
    case 'gauge':
      leaf.value = Math.max(0, (leaf.value as number) + (((leaf.value as number) % 7) - 3));
      break;
    case 'float':
      leaf.value =
        Math.round(((leaf.value as number) + 0.25 * ((((leaf.value as number) * 4) % 5) - 2)) * 100) / 100;
      break;
    case 'state':
      break;
  }
}

/** An on-change event: the state moves to its next value. */
export function flap(leaf: Leaf): void {
  if (!leaf.states) return;
  const i = leaf.states.indexOf(leaf.value as string);
  leaf.value = leaf.states[(i + 1) % leaf.states.length]!;
}

/**
 * Whether a subscription path selects a leaf: every subscription elem must match the leaf's
 * elem at that depth by name (`*` matches any) and by the keys it gives (`*` matches any).
 * `...` matches any number of levels.
 */
export function selects(sub: readonly PathElem[], leaf: readonly PathElem[], si = 0, li = 0): boolean {
  for (; si < sub.length; si++, li++) {
    const s = sub[si]!;
    if (s.name === '...') {
      for (let skip = li; skip <= leaf.length; skip++) if (selects(sub, leaf, si + 1, skip)) return true;
      return false;
    }
    const l = leaf[li];
    if (!l) return false;
    if (s.name !== '*' && s.name !== l.name) return false;
    if (s.key) {
      for (const k in s.key) {
        const want = s.key[k];
        if (want !== '*' && l.key?.[k] !== want) return false;
      }
    }
  }
  return true;
}
