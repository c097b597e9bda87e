import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePath } from '@switchforge/platform/gnmi/paths';
import type { GetResponse, TypedValue } from '../gnmi/proto.js';
import { getResponseToJson, type JsonValue } from './gnmi-config.js';

const utf8 = new TextEncoder();
const ietf = (v: unknown): TypedValue => ({ json_ietf_val: utf8.encode(JSON.stringify(v)) });
const response = (...updates: Array<[string, TypedValue]>): GetResponse => ({
  notification: [{ timestamp: '1', update: updates.map(([p, val]) => ({ path: parsePath(p), val })) }],
});

describe('a gNMI Get response as one JSON document', () => {
  const cases: Array<[string, GetResponse, JsonValue]> = [
    [
      'one update at the root holding the whole tree',
      response(['/', ietf({ 'openconfig-system:system': { config: { hostname: 'sw1' } } })]),
      { 'openconfig-system:system': { config: { hostname: 'sw1' } } },
    ],
    [
      'one update per leaf, keyed lists becoming arrays of entries',
      response(
        ['/interfaces/interface[name=Ethernet0]/config/mtu', ietf(9100)],
        ['/interfaces/interface[name=Ethernet0]/config/enabled', { bool_val: true }],
        ['/interfaces/interface[name=Ethernet1]/config/mtu', { uint_val: 1500 }],
        ['/system/config/hostname', { string_val: 'sw1' }],
      ),
      {
        interfaces: {
          interface: [
            { name: 'Ethernet0', config: { mtu: 9100, enabled: true } },
            { name: 'Ethernet1', config: { mtu: 1500 } },
          ],
        },
        system: { config: { hostname: 'sw1' } },
      },
    ],
    [
      'a subtree update merged under a list entry',
      response(['/interfaces/interface[name=Ethernet0]', ietf({ config: { description: 'uplink' } })]),
      { interfaces: { interface: [{ name: 'Ethernet0', config: { description: 'uplink' } }] } },
    ],
    [
      'leaf-lists and 64-bit integers past 2^53',
      response(
        [
          '/system/dns/config/search',
          { leaflist_val: { element: [{ string_val: 'a.example' }, { string_val: 'b.example' }] } },
        ],
        ['/system/config/big', { uint_val: '18446744073709551615' }],
      ),
      {
        system: {
          dns: { config: { search: ['a.example', 'b.example'] } },
          config: { big: '18446744073709551615' },
        },
      },
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(`merges ${name}`, () => assert.deepEqual(getResponseToJson(input), expected));
  }

  it('rejects a JSON value that does not parse', () => {
    assert.throws(
      () => getResponseToJson(response(['/a', { json_ietf_val: utf8.encode('{"x":') }])),
      /not valid JSON/,
    );
  });
});
