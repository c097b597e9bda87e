import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { elemsOf, formatPath, joinPaths, keylessPath, parsePath, PathSyntaxError } from './paths.js';
import type { Path } from './proto.js';

describe('gNMI path strings', () => {
  const cases: { name: string; input: string; path: Path; formatted?: string }[] = [
    {
      name: 'a plain path',
      input: '/system/state/hostname',
      path: { elem: [{ name: 'system' }, { name: 'state' }, { name: 'hostname' }] },
    },
    {
      name: 'a list key',
      input: '/interfaces/interface[name=Ethernet1]/state/counters',
      path: {
        elem: [
          { name: 'interfaces' },
          { name: 'interface', key: { name: 'Ethernet1' } },
          { name: 'state' },
          { name: 'counters' },
        ],
      },
    },
    {
      name: 'several keys, printed sorted',
      input: '/a/b[z=1][y=2]/c',
      path: { elem: [{ name: 'a' }, { name: 'b', key: { z: '1', y: '2' } }, { name: 'c' }] },
      formatted: '/a/b[y=2][z=1]/c',
    },
    {
      name: 'an origin before the first slash',
      input: 'openconfig:/interfaces/interface[name=Ethernet1]',
      path: {
        origin: 'openconfig',
        elem: [{ name: 'interfaces' }, { name: 'interface', key: { name: 'Ethernet1' } }],
      },
    },
    {
      name: 'an IPv6 key value with colons (not an origin)',
      input:
        '/network-instances/network-instance[name=default]/protocols/protocol/bgp/neighbors/neighbor[neighbor-address=2001:db8::1]',
      path: {
        elem: [
          { name: 'network-instances' },
          { name: 'network-instance', key: { name: 'default' } },
          { name: 'protocols' },
          { name: 'protocol' },
          { name: 'bgp' },
          { name: 'neighbors' },
          { name: 'neighbor', key: { 'neighbor-address': '2001:db8::1' } },
        ],
      },
    },
    {
      name: 'a key value with a slash and an escaped bracket',
      input: '/components/component[name=Slot 1/CPU\\]0]/state',
      path: {
        elem: [
          { name: 'components' },
          { name: 'component', key: { name: 'Slot 1/CPU]0' } },
          { name: 'state' },
        ],
      },
    },
    {
      name: 'an escaped slash in a name',
      input: '/a\\/b/c',
      path: { elem: [{ name: 'a/b' }, { name: 'c' }] },
    },
    {
      name: 'no leading slash',
      input: 'a/b',
      path: { elem: [{ name: 'a' }, { name: 'b' }] },
      formatted: '/a/b',
    },
    { name: 'the root', input: '/', path: { elem: [] } },
    { name: 'an empty key value', input: '/a[k=]', path: { elem: [{ name: 'a', key: { k: '' } }] } },
  ];
  for (const c of cases) {
    it(`parses and prints ${c.name}`, () => {
      assert.deepEqual(parsePath(c.input), c.path);
      assert.equal(formatPath(parsePath(c.input)), c.formatted ?? c.input);
    });
  }

  const bad: { input: string; why: RegExp }[] = [
    { input: '/a//b', why: /empty element/ },
    { input: '/a[k=v', why: /unterminated key value/ },
    { input: '/a[k]', why: /key without value|unterminated key/ },
    { input: '/a[=v]', why: /empty key name/ },
    { input: '/a[k=v]x', why: /unexpected/ },
  ];
  for (const b of bad) {
    it(`rejects ${b.input}`, () => {
      assert.throws(
        () => parsePath(b.input),
        (e: unknown) => e instanceof PathSyntaxError && b.why.test(e.message),
      );
    });
  }

  it('reads deprecated element strings, keys inline', () => {
    const p: Path = { element: ['interfaces', 'interface[name=eth0]', 'state'] };
    assert.deepEqual(elemsOf(p), [
      { name: 'interfaces' },
      { name: 'interface', key: { name: 'eth0' } },
      { name: 'state' },
    ]);
    assert.equal(formatPath(p), '/interfaces/interface[name=eth0]/state');
  });

  it('joins prefix and path, taking target from the prefix and origin from either', () => {
    const joined = joinPaths(
      { target: 'leaf1', origin: 'openconfig', elem: [{ name: 'interfaces' }] },
      { elem: [{ name: 'interface', key: { name: 'Ethernet1' } }] },
    );
    assert.deepEqual(joined, {
      target: 'leaf1',
      origin: 'openconfig',
      elem: [{ name: 'interfaces' }, { name: 'interface', key: { name: 'Ethernet1' } }],
    });
  });

  it('gives the key-less path with keys as labels, qualifying a repeated key name', () => {
    const k = keylessPath(
      parsePath(
        '/network-instances/network-instance[name=default]/protocols/protocol[identifier=BGP][name=bgp]/bgp',
      ),
    );
    assert.equal(k.path, '/network-instances/network-instance/protocols/protocol/bgp');
    assert.deepEqual(k.labels, { name: 'default', identifier: 'BGP', protocol_name: 'bgp' });
  });
});
