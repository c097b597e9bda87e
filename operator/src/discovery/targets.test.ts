import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { deviceName, expandCidr, expandTargets, TargetError } from './targets.js';

describe('expandCidr', () => {
  it("a /30 yields its four addresses from the block's start", () => {
    assert.deepEqual(expandCidr('127.0.0.6/30'), ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7']);
  });
  it('a /24 yields 256 addresses and a /32 one', () => {
    assert.equal(expandCidr('10.1.2.0/24').length, 256);
    assert.deepEqual(expandCidr('10.1.2.3/32'), ['10.1.2.3']);
  });
  for (const bad of ['10.0.0.0/23', '10.0.0.0/33', '10.0.0/24', '::1/128', '10.0.0.0/24/1', '10.0.0.0/x']) {
    it(`refuses ${bad}`, () => assert.throws(() => expandCidr(bad), TargetError));
  }
});

describe('expandTargets', () => {
  it('keeps order and drops duplicates across addresses, names and blocks', () => {
    assert.deepEqual(expandTargets(['127.0.0.2', 'Switch-1.lab', '127.0.0.0/31', 'switch-1.lab']), [
      { address: '127.0.0.2', kind: 'ip' },
      { address: 'switch-1.lab', kind: 'host' },
      { address: '127.0.0.0', kind: 'ip' },
      { address: '127.0.0.1', kind: 'ip' },
    ]);
  });
  it('refuses an entry that is none of the three, naming it', () => {
    assert.throws(() => expandTargets(['bad host!']), /"bad host!" is neither/);
  });
});

describe('deviceName', () => {
  const cases: [string, string][] = [
    ['leaf-01', 'leaf-01'],
    ['Spine_02.DC1', 'spine-02-dc1'],
    ['127.0.0.5', '127-0-0-5'],
    ['--edge--', 'edge'],
  ];
  for (const [reported, name] of cases) {
    it(`names "${reported}" ${name}`, () => assert.equal(deviceName(reported), name));
  }
  it('shortens a long name to 63 characters and keeps two long names distinct', () => {
    const a = deviceName(`${'x'.repeat(70)}a`);
    const b = deviceName(`${'x'.repeat(70)}b`);
    assert.equal(a.length, 63);
    assert.notEqual(a, b);
    assert.match(a, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });
  it('refuses a report with nothing usable', () => assert.throws(() => deviceName('___'), TargetError));
});
