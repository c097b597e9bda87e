import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codecs, type TypedValue } from './proto.js';
import {
  decodeTypedValue,
  decodeUpdateValue,
  flattenJson,
  float32ToNumber,
  MalformedValueError,
} from './values.js';
import type { SampleValue } from '../device/sample.js';

/** Through the wire, as a device would send it: encode, then decode with the real decoder. */
const wire = (tv: TypedValue): TypedValue => codecs.TypedValue.decode(codecs.TypedValue.encode(tv));
const utf8 = (s: string) => new TextEncoder().encode(s);
const float32BE = (f: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, f, false);
  return b;
};

describe('TypedValue decoding', () => {
  const cases: { name: string; tv: TypedValue; want: SampleValue | { tree: object } }[] = [
    { name: 'a uint64 counter', tv: { uint_val: '1234567890123' }, want: 1234567890123 },
    { name: 'a zero counter (zero is still set in a oneof)', tv: { uint_val: 0 }, want: 0 },
    {
      name: 'a uint64 past 2^53 kept exact as text',
      tv: { uint_val: '18446744073709551615' },
      want: '18446744073709551615',
    },
    { name: 'a negative int64', tv: { int_val: -42 }, want: -42 },
    {
      name: 'an int64 below -2^53 kept exact',
      tv: { int_val: '-9223372036854775808' },
      want: '-9223372036854775808',
    },
    { name: 'a string (oper-status)', tv: { string_val: 'UP' }, want: 'UP' },
    { name: 'an empty string', tv: { string_val: '' }, want: '' },
    { name: 'a false boolean', tv: { bool_val: false }, want: false },
    { name: 'a double (temperature)', tv: { double_val: 41.5 }, want: 41.5 },
    { name: 'a deprecated float32 without float noise', tv: { float_val: 0.1 }, want: 0.1 },
    { name: 'a float32 as 4-byte big-endian bytes_val', tv: { bytes_val: float32BE(12.3) }, want: 12.3 },
    { name: 'a negative float32 bytes_val', tv: { bytes_val: float32BE(-0.5) }, want: -0.5 },
    {
      name: 'other bytes as base64',
      tv: { bytes_val: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01]) },
      want: '3q2+7wE=',
    },
    { name: 'a decimal64', tv: { decimal_val: { digits: 12345, precision: 2 } }, want: 123.45 },
    {
      name: 'a leaf-list',
      tv: { leaflist_val: { element: [{ string_val: 'a' }, { uint_val: 2 }] } },
      want: '["a",2]',
    },
    { name: 'an ASCII value', tv: { ascii_val: 'show me' }, want: 'show me' },
    {
      name: 'a JSON_IETF scalar (uint64 as string per RFC 7951)',
      tv: { json_ietf_val: utf8('"1500"') },
      want: '1500',
    },
    { name: 'a JSON number', tv: { json_val: utf8('1500') }, want: 1500 },
    {
      name: 'a JSON_IETF object',
      tv: { json_ietf_val: utf8('{"openconfig-interfaces:mtu":1500}') },
      want: { tree: { 'openconfig-interfaces:mtu': 1500 } },
    },
    { name: 'a JSON_IETF leaf-list', tv: { json_ietf_val: utf8('["a","b"]') }, want: '["a","b"]' },
    { name: 'JSON empty leaf [null]', tv: { json_ietf_val: utf8('[null]') }, want: '[null]' },
  ];
  for (const c of cases) {
    it(`decodes ${c.name}`, () => {
      assert.deepEqual(decodeTypedValue(wire(c.tv)), c.want);
    });
  }

  const bad: { name: string; tv: TypedValue | undefined; why: RegExp }[] = [
    { name: 'an empty TypedValue', tv: {}, why: /no value/ },
    { name: 'a missing value', tv: undefined, why: /no value/ },
    { name: 'broken JSON', tv: { json_ietf_val: utf8('{"mtu":') }, why: /not valid JSON/ },
    {
      name: 'JSON that is not UTF-8',
      tv: { json_val: new Uint8Array([0x22, 0xff, 0x22]) },
      why: /not valid JSON/,
    },
    {
      name: 'a decimal64 with absurd precision',
      tv: { decimal_val: { digits: 1, precision: 40 } },
      why: /precision/,
    },
    {
      name: 'a leaf-list holding an object',
      tv: { leaflist_val: { element: [{ json_val: utf8('{"a":1}') }] } },
      why: /not a scalar/,
    },
  ];
  for (const b of bad) {
    it(`rejects ${b.name}`, () => {
      assert.throws(
        () => decodeTypedValue(b.tv === undefined ? undefined : wire(b.tv)),
        (e: unknown) => e instanceof MalformedValueError && b.why.test(e.message),
      );
    });
  }

  it('reads the deprecated Value (bytes + encoding) when val is absent', () => {
    assert.deepEqual(decodeUpdateValue({ value: { value: utf8('42'), type: 0 } }), 42);
  });

  it('prints float32 values as the shortest decimal that round-trips', () => {
    for (const f of [0.1, 1.1, 3.14159, 1e-7, 65504, 123456.7]) {
      assert.equal(float32ToNumber(Math.fround(f)), f);
    }
  });
});

describe('JSON flattening', () => {
  const flat = (tree: Record<string, unknown>) => {
    const out: [string, Record<string, string>, SampleValue][] = [];
    flattenJson(tree, '/base', { name: 'Ethernet1' }, (p, l, v) => out.push([p, { ...l }, v]));
    return out;
  };

  it('turns nested containers into leaves, dropping module prefixes', () => {
    assert.deepEqual(
      flat({
        'openconfig-interfaces:state': {
          counters: { 'in-octets': '100', 'out-octets': '7' },
          'oper-status': 'UP',
        },
      }),
      [
        ['/base/state/counters/in-octets', { name: 'Ethernet1' }, '100'],
        ['/base/state/counters/out-octets', { name: 'Ethernet1' }, '7'],
        ['/base/state/oper-status', { name: 'Ethernet1' }, 'UP'],
      ],
    );
  });

  it('labels list entries by position and keeps leaf-lists whole', () => {
    assert.deepEqual(
      flat({ address: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], 'dns-servers': ['1.1.1.1', '8.8.8.8'] }),
      [
        ['/base/address/ip', { name: 'Ethernet1', 'address-index': '0' }, '10.0.0.1'],
        ['/base/address/ip', { name: 'Ethernet1', 'address-index': '1' }, '10.0.0.2'],
        ['/base/dns-servers', { name: 'Ethernet1' }, '["1.1.1.1","8.8.8.8"]'],
      ],
    );
  });
});
