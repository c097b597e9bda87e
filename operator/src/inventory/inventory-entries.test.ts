/** NetBox device entries (the /api/dcim/devices/ shape of NetBox 3 and 4) to Devices, case by case. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceInventory, DeviceInventorySpec } from '@switchforge/platform/crd';
import { desiredInventoryDevice, entryLabels } from './inventory-device.js';
import { addressOf, firstString, mapEntries, tagsOf, valueAt } from './inventory-entries.js';

/** A NetBox 4 device as the API returns it, trimmed to the fields that matter here. */
function netbox(name: string | null, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 7,
    url: 'https://netbox.example.net/api/dcim/devices/7/',
    display: name ?? 'Unnamed device (7)',
    name,
    device_type: {
      id: 1,
      manufacturer: { name: 'Arista', slug: 'arista' },
      model: 'DCS-7050SX3',
      slug: 'dcs-7050sx3',
    },
    role: { id: 2, name: 'Leaf', slug: 'leaf' },
    platform: { id: 3, name: 'EOS', slug: 'eos' },
    site: { id: 4, name: 'AMS1', slug: 'ams1' },
    status: { value: 'active', label: 'Active' },
    primary_ip: { id: 9, family: { value: 4, label: 'IPv4' }, address: '192.0.2.11/24' },
    primary_ip4: { id: 9, family: { value: 4, label: 'IPv4' }, address: '192.0.2.11/24' },
    primary_ip6: null,
    tags: [{ id: 1, name: 'Telemetry', slug: 'telemetry', color: '9e9e9e' }],
    ...fields,
  };
}

const spec = (extra: Partial<DeviceInventorySpec> = {}): DeviceInventorySpec => ({
  source: { url: 'https://netbox.example.net/api/dcim/devices/' },
  schedule: { every: '10m' },
  deviceTemplate: { credentials: { secretRef: { name: 'login' } } },
  ...extra,
});

describe('reading an entry', () => {
  const entry = netbox('leaf1', { custom_fields: { mgmt: { port: 6030 } } });
  const cases: [string, unknown, unknown][] = [
    ['a top-level field', valueAt(entry, 'name'), 'leaf1'],
    ['a nested field', valueAt(entry, 'primary_ip4.address'), '192.0.2.11/24'],
    ['a step through null gives nothing', valueAt(entry, 'primary_ip6.address'), undefined],
    ['a number is read as a string', firstString(entry, ['custom_fields.mgmt.port']), '6030'],
    [
      'the first path that holds a value wins',
      firstString(entry, ['primary_ip6.address', 'primary_ip4.address']),
      '192.0.2.11/24',
    ],
    ['an empty string holds no value', firstString({ a: '  ', b: 'x' }, ['a', 'b']), 'x'],
    [
      'tags as objects give their slugs',
      tagsOf(netbox('x', { tags: [{ slug: 'core' }, { name: 'Edge' }] }), ['tags']),
      ['core', 'Edge'],
    ],
    ['tags as strings are taken as they are', tagsOf({ tags: ['a', 'b'] }, ['tags']), ['a', 'b']],
    ['no tags array gives none', tagsOf({ tags: 'core' }, ['tags']), []],
    ['an IPv4 address loses its prefix', addressOf('192.0.2.11/24'), '192.0.2.11'],
    ['an IPv6 address loses its prefix and is lower-cased', addressOf('2001:DB8::11/64'), '2001:db8::11'],
    ['an address without a prefix is kept', addressOf('192.0.2.11'), '192.0.2.11'],
    ['a host name is not an address', addressOf('leaf1.example.net'), undefined],
  ];
  for (const [name, actual, expected] of cases) test(name, () => assert.deepEqual(actual, expected));
});

describe('mapping NetBox entries to Devices', () => {
  test('an active device with a primary IPv4 maps to its name, address, site, role and platform', () => {
    const { mapped, failed, filtered } = mapEntries([netbox('leaf1')], spec());
    assert.deepEqual(failed, []);
    assert.equal(filtered, 0);
    assert.deepEqual(mapped, [
      {
        entry: 'leaf1',
        name: 'leaf1',
        address: '192.0.2.11',
        labels: { site: 'ams1', role: 'leaf', platform: 'eos' },
        tags: ['telemetry'],
      },
    ]);
  });

  const cases: {
    name: string;
    entries: unknown[];
    extra?: Partial<DeviceInventorySpec>;
    mapped: string[];
    failed: [string, string][];
    filtered?: number;
  }[] = [
    {
      name: 'a device without a primary IPv4 falls back to its primary IPv6',
      entries: [netbox('leaf6', { primary_ip4: null, primary_ip6: { address: '2001:db8::6/64' } })],
      mapped: ['leaf6 2001:db8::6'],
      failed: [],
    },
    {
      name: 'a device with no primary IP fails with NoAddress',
      entries: [netbox('leaf2', { primary_ip: null, primary_ip4: null })],
      mapped: [],
      failed: [['leaf2', 'NoAddress']],
    },
    {
      name: 'an address that is not an IP fails with InvalidAddress',
      entries: [netbox('leaf3', { primary_ip4: { address: 'leaf3.example.net' } })],
      mapped: [],
      failed: [['leaf3', 'InvalidAddress']],
    },
    {
      name: 'an unnamed device fails with InvalidName and is named by its place',
      entries: [netbox('leaf1'), netbox(null, { primary_ip4: { address: '192.0.2.99/24' } })],
      mapped: ['leaf1 192.0.2.11'],
      failed: [['#1', 'InvalidName']],
    },
    {
      name: 'a name with no letter or digit fails with InvalidName',
      entries: [netbox('***')],
      mapped: [],
      failed: [['***', 'InvalidName']],
    },
    {
      name: 'a name is sanitised to a DNS-1123 label',
      entries: [netbox('AMS1 Leaf_01.lab')],
      mapped: ['ams1-leaf-01-lab 192.0.2.11'],
      failed: [],
    },
    {
      name: 'a second entry with the same sanitised name fails with DuplicateName; the first wins',
      entries: [netbox('Leaf 1'), netbox('leaf-1', { primary_ip4: { address: '192.0.2.12/24' } })],
      mapped: ['leaf-1 192.0.2.11'],
      failed: [['leaf-1', 'DuplicateName']],
    },
    {
      name: 'a second entry with the same address fails with DuplicateAddress',
      entries: [netbox('leaf1'), netbox('leaf1-vc2')],
      mapped: ['leaf1 192.0.2.11'],
      failed: [['leaf1-vc2', 'DuplicateAddress']],
    },
    {
      name: 'an entry that is not an object fails with InvalidEntry',
      entries: ['leaf1'],
      mapped: [],
      failed: [['#0', 'InvalidEntry']],
    },
    {
      name: 'only active devices are kept by default',
      entries: [netbox('leaf1'), netbox('leaf2', { status: { value: 'planned', label: 'Planned' } })],
      mapped: ['leaf1 192.0.2.11'],
      failed: [],
      filtered: 1,
    },
    {
      name: 'an empty statuses filter keeps every status',
      entries: [netbox('leaf2', { status: { value: 'offline' } })],
      extra: { filter: { statuses: [] } },
      mapped: ['leaf2 192.0.2.11'],
      failed: [],
    },
    {
      name: 'a tag filter keeps the entries carrying every tag named',
      entries: [
        netbox('leaf1', { tags: [{ slug: 'telemetry' }, { slug: 'core' }] }),
        netbox('leaf2', { primary_ip4: null }),
      ],
      extra: { filter: { tags: ['core', 'telemetry'] } },
      mapped: ['leaf1 192.0.2.11'],
      failed: [],
      filtered: 1,
    },
    {
      name: 'a filtered entry is not checked further (no failure for its missing IP)',
      entries: [netbox('leaf2', { primary_ip4: null, status: { value: 'decommissioning' } })],
      mapped: [],
      failed: [],
      filtered: 1,
    },
    {
      name: 'a custom mapping reads another inventory shape, with a plain status string',
      entries: [{ hostname: 'sw1', mgmt: '198.51.100.1', state: 'up' }],
      extra: {
        mapping: { name: ['hostname'], address: ['mgmt'], status: ['state'] },
        filter: { statuses: ['up'] },
      },
      mapped: ['sw1 198.51.100.1'],
      failed: [],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = mapEntries(c.entries, spec(c.extra));
      assert.deepEqual(
        r.mapped.map((m) => `${m.name} ${m.address}`),
        c.mapped,
      );
      assert.deepEqual(
        r.failed.map((f) => [f.entry, f.reason]),
        c.failed,
      );
      assert.equal(r.filtered, c.filtered ?? 0);
      for (const f of r.failed) assert.ok(f.message.length > 0);
    });
  }

  test('NetBox 3 names the role device_role', () => {
    const { mapped } = mapEntries(
      [netbox('leaf1', { role: undefined, device_role: { slug: 'spine' } })],
      spec(),
    );
    assert.equal(mapped[0]?.labels.role, 'spine');
  });
});

describe('the Device an entry becomes', () => {
  const inventory: DeviceInventory = {
    apiVersion: 'switchforge.io/v1alpha1',
    kind: 'DeviceInventory',
    metadata: { name: 'netbox', namespace: 'net', uid: 'uid-inv' },
    spec: spec({
      deviceTemplate: {
        profileRef: { name: 'leaf' },
        protocol: 'gnmi',
        port: 6030,
        labels: { source: 'netbox', site: 'unknown' },
      },
    }),
  };
  const [entry] = mapEntries(
    [netbox('leaf1', { tags: [{ slug: 'telemetry' }, { slug: 'Core Switch' }] })],
    inventory.spec,
  ).mapped;

  test('takes the template, the address, and sample labels with the entry’s winning', () => {
    const d = desiredInventoryDevice(inventory, entry!);
    assert.deepEqual(d.spec, {
      profileRef: { name: 'leaf' },
      protocol: 'gnmi',
      port: 6030,
      address: '192.0.2.11',
      labels: { source: 'netbox', site: 'ams1', role: 'leaf', platform: 'eos' },
    });
  });

  test('is owned by the inventory and labelled with it, its mapped values and its tags', () => {
    const d = desiredInventoryDevice(inventory, entry!);
    assert.equal(d.metadata.name, 'leaf1');
    assert.equal(d.metadata.namespace, 'net');
    assert.deepEqual(
      d.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [['DeviceInventory', 'netbox', 'uid-inv', true]],
    );
    assert.deepEqual(d.metadata.labels, {
      'app.kubernetes.io/managed-by': 'switchforge-operator',
      'switchforge.io/inventory': 'netbox',
      'inventory.switchforge.io/site': 'ams1',
      'inventory.switchforge.io/role': 'leaf',
      'inventory.switchforge.io/platform': 'eos',
      'inventory.switchforge.io/tag-telemetry': 'true',
      'inventory.switchforge.io/tag-Core_Switch': 'true',
    });
  });

  test('leaves out a tag too long for a label name', () => {
    const labels = entryLabels({
      entry: 'x',
      name: 'x',
      address: '192.0.2.1',
      labels: {},
      tags: ['t'.repeat(70)],
    });
    assert.deepEqual(labels, {});
  });
});
