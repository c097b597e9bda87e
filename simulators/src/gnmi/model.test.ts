import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePath } from '@switchforge/platform/gnmi/paths';
import { buildDevice, selects } from './model.js';

describe('simulated switch paths', () => {
  const leaf = parsePath('/interfaces/interface[name=Ethernet1]/state/counters/in-octets').elem!;
  const cases: { sub: string; want: boolean }[] = [
    { sub: '/', want: true },
    { sub: '/interfaces', want: true },
    { sub: '/interfaces/interface[name=Ethernet1]/state', want: true },
    { sub: '/interfaces/interface[name=*]/state/counters', want: true },
    { sub: '/interfaces/interface/state/counters/in-octets', want: true },
    { sub: '/interfaces/*/state', want: true },
    { sub: '/.../in-octets', want: true },
    { sub: '/interfaces/interface[name=Ethernet2]', want: false },
    { sub: '/interfaces/interface/state/oper-status', want: false },
    { sub: '/interfaces/interface/state/counters/in-octets/deeper', want: false },
    { sub: '/system', want: false },
  ];
  for (const c of cases) {
    it(`${c.want ? 'selects' : 'does not select'} the in-octets leaf with ${c.sub}`, () => {
      assert.equal(selects(parsePath(c.sub).elem!, leaf), c.want);
    });
  }

  it('serves interface counters and oper-status, CPU, memory, temperature and BGP state', () => {
    const d = buildDevice('leaf1', 0, { interfaces: 2, bgpNeighbors: 1 });
    const roots = new Set(d.leaves.map((l) => l.elems.map((e) => e.name).join('/')));
    for (const p of [
      'interfaces/interface/state/counters/in-octets',
      'interfaces/interface/state/oper-status',
      'components/component/cpu/utilization/state/instant',
      'system/memory/state/used',
      'components/component/state/temperature/instant',
      'network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state',
    ]) {
      assert.ok(roots.has(p), p);
    }
  });
});
