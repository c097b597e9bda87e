import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classifyGrpcError,
  classifySshError,
  factLabels,
  labelValue,
  parseHello,
  verdictOf,
  type ProbeOutcome,
} from './probe-result.js';

describe('classifying a failed probe', () => {
  const grpcCases: [string, number, string, string, string][] = [
    ['UNAUTHENTICATED is a refusal of the credentials', 16, 'bad password', 'refused', 'AuthFailed'],
    ['PERMISSION_DENIED is a refusal too', 7, 'denied', 'refused', 'AuthFailed'],
    ['a deadline passed is a timeout', 4, 'Deadline exceeded', 'unreachable', 'Timeout'],
    [
      'nothing listening',
      14,
      'No connection established. connect ECONNREFUSED 127.0.0.9:1',
      'unreachable',
      'ConnectionRefused',
    ],
    [
      'a certificate not trusted',
      14,
      'self-signed certificate in certificate chain',
      'unreachable',
      'TLSError',
    ],
    ['any other UNAVAILABLE', 14, 'Connection dropped', 'unreachable', 'Unreachable'],
    ['an answer that is not gNMI', 12, 'unknown service gnmi.gNMI', 'unreachable', 'NotGnmi'],
  ];
  for (const [name, code, details, kind, reason] of grpcCases) {
    test(`gNMI: ${name}`, () => assert.deepEqual(classifyGrpcError(code, details), { kind, reason }));
  }

  test('SSH: an authentication failure is a refusal, a host key not pinned is not', () => {
    assert.deepEqual(classifySshError({ level: 'client-authentication', message: 'x' }, false), {
      kind: 'refused',
      reason: 'AuthFailed',
    });
    assert.deepEqual(classifySshError({ level: 'client-authentication', message: 'x' }, true), {
      kind: 'unreachable',
      reason: 'HostKeyMismatch',
    });
    assert.equal(classifySshError({ code: 'ECONNREFUSED', message: 'x' }, false).reason, 'ConnectionRefused');
    assert.equal(classifySshError({ level: 'client-timeout', message: 'x' }, false).reason, 'Timeout');
  });
});

describe('a target verdict from its probes', () => {
  const answered: ProbeOutcome = { kind: 'answered', protocol: 'netconf', port: 830, facts: { models: [] } };
  const timeout: ProbeOutcome = {
    kind: 'unreachable',
    protocol: 'gnmi',
    port: 57400,
    reason: 'Timeout',
    message: 'slow',
  };
  const refused: ProbeOutcome = {
    kind: 'refused',
    protocol: 'netconf',
    port: 830,
    reason: 'AuthFailed',
    message: 'no',
  };

  test('the first answer makes it found', () => {
    assert.deepEqual(verdictOf([timeout, answered]), { kind: 'found', answer: answered });
  });
  test('a refusal of the credentials outranks no answer, and the message keeps both', () => {
    const v = verdictOf([timeout, refused]);
    assert.ok(v.kind === 'refused', v.kind);
    assert.equal(v.reason, 'AuthFailed');
    assert.match(v.message, /gnmi:57400: Timeout: slow; netconf:830: AuthFailed: no/);
  });
  test('no answer at all is unreachable with the first reason', () => {
    const v = verdictOf([timeout]);
    assert.ok(v.kind === 'unreachable' && v.reason === 'Timeout');
  });
});

describe('what a target reported', () => {
  test('a NETCONF hello gives its capabilities, base versions and a vendor named by its namespaces', () => {
    const facts =
      parseHello(`<?xml version="1.0"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>
      <capability>urn:ietf:params:netconf:base:1.0</capability><capability>urn:ietf:params:netconf:base:1.1</capability>
      <capability>http://cisco.com/ns/yang/Cisco-IOS-XR-ifmgr-cfg?module=Cisco-IOS-XR-ifmgr-cfg&amp;revision=2019-04-05</capability>
      </capabilities><session-id>4</session-id></hello>`);
    assert.deepEqual(facts.netconfBase, ['1.0', '1.1']);
    assert.equal(facts.vendor, 'cisco');
    assert.equal(facts.models.length, 3);
    assert.ok(facts.models[2]!.includes('&revision='));
  });
  test('a hello without capabilities is not NETCONF', () => {
    assert.throws(() => parseHello('<hello/>'), /no capabilities/);
  });

  test('labels carry vendor and versions where reported, the models as a count and an order-free hash', () => {
    const a = factLabels('gnmi', {
      gnmiVersion: '0.10.0',
      encodings: ['proto', 'json'],
      models: ['openconfig-interfaces@3.0.0', 'openconfig-system@2.1.0'],
      vendor: 'arista',
    });
    assert.equal(a['discovery.switchforge.io/protocol'], 'gnmi');
    assert.equal(a['discovery.switchforge.io/gnmi-version'], '0.10.0');
    assert.equal(a['discovery.switchforge.io/encodings'], 'json.proto');
    assert.equal(a['discovery.switchforge.io/vendor'], 'arista');
    assert.equal(a['discovery.switchforge.io/models-count'], '2');
    assert.equal(a['discovery.switchforge.io/model'], undefined);
    const b = factLabels('gnmi', { models: ['openconfig-system@2.1.0', 'openconfig-interfaces@3.0.0'] });
    assert.equal(a['discovery.switchforge.io/models-hash'], b['discovery.switchforge.io/models-hash']);
    const c = factLabels('gnmi', { models: ['openconfig-system@2.2.0', 'openconfig-interfaces@3.0.0'] });
    assert.notEqual(a['discovery.switchforge.io/models-hash'], c['discovery.switchforge.io/models-hash']);
  });
  test('a reported value becomes a valid label value or none', () => {
    assert.equal(labelValue('7.4.1 (build 22)'), '7.4.1_build_22');
    assert.equal(labelValue('--'), undefined);
    assert.equal(labelValue('x'.repeat(80))!.length, 63);
  });
});
