import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePath } from '@switchforge/platform/gnmi/paths';
import { notificationToSamples } from './notifications.js';
import { codecs, type Notification } from './proto.js';
import type { Sample } from '../device/sample.js';

const wire = (n: Notification): Notification =>
  codecs.SubscribeResponse.decode(codecs.SubscribeResponse.encode({ update: n })).update!;
const utf8 = (s: string) => new TextEncoder().encode(s);
const TS = '1700000000123456789';

function decode(n: Notification): { samples: Sample[]; malformed: string[] } {
  const malformed: string[] = [];
  const samples = notificationToSamples(wire(n), {
    device: 'lab/leaf1',
    onMalformed: (e) => malformed.push(e.message),
    now: () => 42n,
  });
  return { samples, malformed };
}

const s = (
  path: string,
  labels: Record<string, string>,
  value: Sample['value'],
  timestampNs = BigInt(TS),
): Sample => ({
  device: 'lab/leaf1',
  path,
  labels,
  timestampNs,
  value,
});

describe('notifications to samples', () => {
  const cases: { name: string; n: Notification; want: Sample[]; malformed?: RegExp[] }[] = [
    {
      name: 'an Arista-style counter update with a keyed prefix',
      n: {
        timestamp: TS,
        prefix: {
          target: 'leaf1',
          elem: parsePath('/interfaces/interface[name=Ethernet1]/state/counters').elem!,
        },
        update: [
          { path: parsePath('in-octets'), val: { uint_val: '987654321' } },
          { path: parsePath('out-octets'), val: { uint_val: 5 } },
        ],
      },
      want: [
        s('/interfaces/interface/state/counters/in-octets', { name: 'Ethernet1' }, 987654321),
        s('/interfaces/interface/state/counters/out-octets', { name: 'Ethernet1' }, 5),
      ],
    },
    {
      name: 'a JSON_IETF container flattened into leaves',
      n: {
        timestamp: TS,
        update: [
          {
            path: parsePath('/interfaces/interface[name=Ethernet2]/state'),
            val: { json_ietf_val: utf8('{"openconfig-interfaces:oper-status":"DOWN","mtu":9214}') },
          },
        ],
      },
      want: [
        s('/interfaces/interface/state/oper-status', { name: 'Ethernet2' }, 'DOWN'),
        s('/interfaces/interface/state/mtu', { name: 'Ethernet2' }, 9214),
      ],
    },
    {
      name: 'BGP neighbor state with an IPv6 key',
      n: {
        timestamp: TS,
        prefix: parsePath(
          '/network-instances/network-instance[name=default]/protocols/protocol[identifier=BGP][name=BGP]/bgp/neighbors',
        ),
        update: [
          {
            path: parsePath('neighbor[neighbor-address=2001:db8::2]/state/session-state'),
            val: { string_val: 'ESTABLISHED' },
          },
        ],
      },
      want: [
        s(
          '/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state',
          { name: 'default', identifier: 'BGP', protocol_name: 'BGP', 'neighbor-address': '2001:db8::2' },
          'ESTABLISHED',
        ),
      ],
    },
    {
      name: 'a leaf delete and a whole-branch delete',
      n: {
        timestamp: TS,
        prefix: parsePath('/interfaces'),
        delete: [
          parsePath('interface[name=Ethernet3]/state/description'),
          parsePath('interface[name=Ethernet4]'),
        ],
      },
      want: [
        s('/interfaces/interface/state/description', { name: 'Ethernet3' }, undefined),
        s('/interfaces/interface', { name: 'Ethernet4' }, undefined),
      ],
    },
    {
      name: 'deprecated element strings from an old target',
      n: {
        timestamp: TS,
        prefix: { element: ['components', 'component[name=CPU0]'] },
        update: [{ path: { element: ['state', 'temperature', 'instant'] }, val: { double_val: 51.25 } }],
      },
      want: [s('/components/component/state/temperature/instant', { name: 'CPU0' }, 51.25)],
    },
    {
      name: 'a malformed update between good ones',
      n: {
        timestamp: TS,
        prefix: parsePath('/system/memory/state'),
        update: [
          { path: parsePath('physical'), val: { uint_val: 100 } },
          { path: parsePath('used'), val: { json_ietf_val: utf8('{"broken":') } },
          { path: parsePath('free'), val: {} },
          { path: parsePath('reserved'), val: { uint_val: 7 } },
        ],
      },
      want: [s('/system/memory/state/physical', {}, 100), s('/system/memory/state/reserved', {}, 7)],
      malformed: [
        /\/system\/memory\/state\/used: json_ietf_val is not valid JSON/,
        /\/system\/memory\/state\/free: .*no value/,
      ],
    },
    {
      name: 'a notification without timestamp, stamped on receipt',
      n: { update: [{ path: parsePath('/system/state/hostname'), val: { string_val: 'leaf1' } }] },
      want: [s('/system/state/hostname', {}, 'leaf1', 42n)],
    },
  ];
  for (const c of cases) {
    it(`decodes ${c.name}`, () => {
      const { samples, malformed } = decode(c.n);
      assert.deepEqual(samples, c.want);
      assert.equal(malformed.length, c.malformed?.length ?? 0, malformed.join('; '));
      c.malformed?.forEach((re, i) => assert.match(malformed[i]!, re));
    });
  }

  it('keeps out-of-order timestamps as the device reported them', () => {
    const later = decode({
      timestamp: '1700000000000000002',
      update: [{ path: parsePath('/a'), val: { uint_val: 2 } }],
    });
    const earlier = decode({
      timestamp: '1700000000000000001',
      update: [{ path: parsePath('/a'), val: { uint_val: 1 } }],
    });
    assert.deepEqual(
      [...later.samples, ...earlier.samples].map((x) => [x.timestampNs, x.value]),
      [
        [1700000000000000002n, 2],
        [1700000000000000001n, 1],
      ],
    );
  });
});
