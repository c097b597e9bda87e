import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  inCidr,
  nodeAddresses,
  NODE_NETWORK,
  POD_NETWORK,
  OUTSIDE_ADDRESS,
  DNS_ADDRESS,
} from './addresses.js';

describe('the real nodes address plan', () => {
  it('gives each node its own address on the nodes network and its own pod /24', () => {
    const a = nodeAddresses(0);
    const b = nodeAddresses(1);
    assert.deepEqual(a, { nodeIp: '10.250.0.11', podCidr: '10.244.0.0/24', podGateway: '10.244.0.1' });
    assert.notEqual(a.nodeIp, b.nodeIp);
    assert.ok(inCidr(b.nodeIp, NODE_NETWORK.cidr) && inCidr(b.podGateway, POD_NETWORK));
    assert.ok(!inCidr(b.podGateway, a.podCidr));
  });

  it('refuses an index the plan has no room for', () => {
    assert.throws(() => nodeAddresses(-1), RangeError);
    assert.throws(() => nodeAddresses(200), RangeError);
    assert.throws(() => nodeAddresses(1.5), RangeError);
  });

  it('keeps the outside relay and DNS off the nodes and pods networks', () => {
    for (const ip of [OUTSIDE_ADDRESS, DNS_ADDRESS]) {
      assert.ok(!inCidr(ip, NODE_NETWORK.cidr) && !inCidr(ip, POD_NETWORK));
    }
  });

  it('matches addresses against CIDR blocks', () => {
    assert.ok(inCidr('10.250.0.200', '10.250.0.0/24'));
    assert.ok(!inCidr('10.250.1.1', '10.250.0.0/24'));
    assert.ok(inCidr('8.8.8.8', '0.0.0.0/0'));
    assert.ok(!inCidr('not-an-ip', '10.0.0.0/8'));
    assert.ok(!inCidr('10.0.0.1', '10.0.0.0/33'));
  });
});
