import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sample, SampleValue } from '../device/sample.js';
import { LatestValues } from './latest-values.js';
import { DROPPED_STRING, MetricMapper, type MappingOptions, type MetricPoint } from './metric-mapping.js';

const sample = (
  path: string,
  labels: Record<string, string>,
  value: SampleValue | undefined,
  timestampNs = 1n,
): Sample => ({ device: 'lab/leaf1', path, labels, value, timestampNs });

describe('a switch path as a metric, the way gnmic names it', () => {
  const cases: {
    name: string;
    sample: Sample;
    options?: MappingOptions;
    want: MetricPoint | typeof DROPPED_STRING | undefined;
  }[] = [
    {
      name: 'an interface counter: path elements joined by _, dashes made _, the key a label, a counter',
      sample: sample('/interfaces/interface/state/counters/in-octets', { name: 'Ethernet1' }, 1234),
      want: {
        name: 'interfaces_interface_state_counters_in_octets',
        kind: 'counter',
        labels: { name: 'Ethernet1', device: 'lab/leaf1' },
        value: 1234,
      },
    },
    {
      name: 'the metric prefix goes in front with _',
      sample: sample('/interfaces/interface/state/counters/out-pkts', { name: 'Ethernet1' }, 5),
      options: { prefix: 'gnmi' },
      want: {
        name: 'gnmi_interfaces_interface_state_counters_out_pkts',
        kind: 'counter',
        labels: { name: 'Ethernet1', device: 'lab/leaf1' },
        value: 5,
      },
    },
    {
      name: 'a counter word ends the leaf outside a counters container (BGP established-transitions)',
      sample: sample(
        '/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/established-transitions',
        { name: 'default', identifier: 'BGP', 'neighbor-address': '192.0.2.1' },
        3,
      ),
      want: {
        name: 'network_instances_network_instance_protocols_protocol_bgp_neighbors_neighbor_state_established_transitions',
        kind: 'counter',
        labels: { name: 'default', identifier: 'BGP', neighbor_address: '192.0.2.1', device: 'lab/leaf1' },
        value: 3,
      },
    },
    {
      name: 'a last-clear timestamp under counters is a gauge',
      sample: sample('/interfaces/interface/state/counters/last-clear', { name: 'Ethernet1' }, 1700000000),
      want: {
        name: 'interfaces_interface_state_counters_last_clear',
        kind: 'gauge',
        labels: { name: 'Ethernet1', device: 'lab/leaf1' },
        value: 1700000000,
      },
    },
    {
      name: 'any other number is a gauge (memory used)',
      sample: sample('/system/memory/state/used', {}, 6442450944),
      want: {
        name: 'system_memory_state_used',
        kind: 'gauge',
        labels: { device: 'lab/leaf1' },
        value: 6442450944,
      },
    },
    {
      name: 'module prefixes of JSON_IETF names are dropped',
      sample: sample('/openconfig-interfaces:interfaces/interface/state/mtu', { name: 'Ethernet1' }, 9000),
      want: {
        name: 'interfaces_interface_state_mtu',
        kind: 'gauge',
        labels: { name: 'Ethernet1', device: 'lab/leaf1' },
        value: 9000,
      },
    },
    {
      name: 'a boolean is a gauge of 0 or 1',
      sample: sample('/interfaces/interface/state/enabled', { name: 'Ethernet1' }, true),
      want: {
        name: 'interfaces_interface_state_enabled',
        kind: 'gauge',
        labels: { name: 'Ethernet1', device: 'lab/leaf1' },
        value: 1,
      },
    },
    {
      name: 'a uint64 past 2^53, kept as decimal text, is read as a number',
      sample: sample(
        '/interfaces/interface/state/counters/in-octets',
        { name: 'Ethernet1' },
        '18446744073709551615',
      ),
      want: {
        name: 'interfaces_interface_state_counters_in_octets',
        kind: 'counter',
        labels: { name: 'Ethernet1', device: 'lab/leaf1' },
        value: Number('18446744073709551615'),
      },
    },
    {
      name: 'a string is dropped by default',
      sample: sample('/interfaces/interface/state/oper-status', { name: 'Ethernet1' }, 'UP'),
      want: DROPPED_STRING,
    },
    {
      name: 'a string with stringsAsLabels is an _info series of 1 with the string as its value label',
      sample: sample('/interfaces/interface/state/oper-status', { name: 'Ethernet1' }, 'UP'),
      options: { stringsAsLabels: true },
      want: {
        name: 'interfaces_interface_state_oper_status_info',
        kind: 'info',
        labels: { name: 'Ethernet1', device: 'lab/leaf1', value: 'UP' },
        value: 1,
      },
    },
    {
      name: 'a key named device, or starting with __, is renamed: those names are taken',
      sample: sample('/a/b', { device: 'x', __meta: 'y', '1st': 'z' }, 1),
      want: {
        name: 'a_b',
        kind: 'gauge',
        labels: { key_device: 'x', _meta: 'y', _1st: 'z', device: 'lab/leaf1' },
        value: 1,
      },
    },
    {
      name: 'a path element starting with a digit gets a leading _',
      sample: sample('/802.1x/state/count', {}, 2),
      want: { name: '_802_1x_state_count', kind: 'gauge', labels: { device: 'lab/leaf1' }, value: 2 },
    },
    { name: 'a delete has no point', sample: sample('/a/b', {}, undefined), want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(new MetricMapper(c.options).map(c.sample), c.want));
  }
});

describe('the latest-value cache the outputs read', () => {
  const counter = (name: string, value: SampleValue | undefined, ts = 1n) =>
    sample('/interfaces/interface/state/counters/in-octets', { name }, value, ts);
  const values = (cache: LatestValues, metric: string) =>
    [...(cache.family(metric)?.series.values() ?? [])].map((s) => [s.labels, s.value]);

  it('keeps the latest value of each series', () => {
    const cache = new LatestValues({ maxSeries: 10 });
    cache.record([counter('Ethernet1', 1), counter('Ethernet2', 7), counter('Ethernet1', 5, 2n)]);
    assert.deepEqual(values(cache, 'interfaces_interface_state_counters_in_octets'), [
      [{ name: 'Ethernet1', device: 'lab/leaf1' }, 5],
      [{ name: 'Ethernet2', device: 'lab/leaf1' }, 7],
    ]);
    assert.equal(cache.size, 2);
  });

  it('drops and counts new series past maxSeries, and keeps updating the ones it holds', () => {
    let dropped = 0;
    const cache = new LatestValues({ maxSeries: 2, onSeriesDropped: (n) => (dropped += n) });
    cache.record([counter('Ethernet1', 1), counter('Ethernet2', 2), counter('Ethernet3', 3)]);
    cache.record([counter('Ethernet1', 10), counter('Ethernet4', 4)]);
    assert.equal(cache.size, 2);
    assert.equal(dropped, 2);
    assert.deepEqual(values(cache, 'interfaces_interface_state_counters_in_octets')[0], [
      { name: 'Ethernet1', device: 'lab/leaf1' },
      10,
    ]);
  });

  it('counts dropped strings, and with stringsAsLabels replaces the last string of a leaf', () => {
    let strings = 0;
    const off = new LatestValues({ maxSeries: 10, onStringsDropped: (n) => (strings += n) });
    off.record([sample('/interfaces/interface/state/oper-status', { name: 'Ethernet1' }, 'UP')]);
    assert.equal(strings, 1);
    assert.equal(off.size, 0);

    const on = new LatestValues({ maxSeries: 10, stringsAsLabels: true });
    on.record([sample('/interfaces/interface/state/oper-status', { name: 'Ethernet1' }, 'UP')]);
    on.record([sample('/interfaces/interface/state/oper-status', { name: 'Ethernet1' }, 'DOWN')]);
    assert.deepEqual(values(on, 'interfaces_interface_state_oper_status_info'), [
      [{ name: 'Ethernet1', device: 'lab/leaf1', value: 'DOWN' }, 1],
    ]);
  });

  it('forgets a deleted leaf, and every leaf of a deleted branch whose keys match', () => {
    const cache = new LatestValues({ maxSeries: 10 });
    cache.record([
      counter('Ethernet1', 1),
      counter('Ethernet2', 2),
      sample('/interfaces/interface/state/mtu', { name: 'Ethernet1' }, 9000),
      sample('/system/memory/state/used', {}, 5),
    ]);
    cache.record([sample('/interfaces/interface', { name: 'Ethernet1' }, undefined)]);
    assert.equal(cache.size, 2);
    cache.record([sample('/system/memory/state/used', {}, undefined)]);
    assert.deepEqual(values(cache, 'interfaces_interface_state_counters_in_octets'), [
      [{ name: 'Ethernet2', device: 'lab/leaf1' }, 2],
    ]);
    assert.equal(cache.size, 1);
  });
});
