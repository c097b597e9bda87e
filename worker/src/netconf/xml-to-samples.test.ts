import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SampleValue } from '../device/sample.js';
import { MalformedMessageError } from './errors.js';
import { MessageReader, parseEventTime } from './message-reader.js';
import { SampleBuilder, typedValue, xmlToSamples } from './xml-to-samples.js';

type Row = [path: string, labels: Record<string, string>, value: SampleValue | undefined];

function rows(xml: string, listKeys?: Record<string, string[]>): Row[] {
  return xmlToSamples(xml, { device: 'd', timestampNs: 1n, ...(listKeys && { listKeys }) }).map((s) => [
    s.path,
    { ...s.labels },
    s.value,
  ]);
}

const IETF = 'urn:ietf:params:xml:ns:yang:ietf-interfaces';

const cases: { name: string; xml: string; listKeys?: Record<string, string[]>; expected: Row[] }[] = [
  {
    name: 'IETF interfaces-state from netconfd: keys become labels, counters numbers',
    xml: `<interfaces-state xmlns="${IETF}"><interface><name>lo</name><oper-status>unknown</oper-status><statistics><in-octets>3062267</in-octets></statistics></interface></interfaces-state>`,
    expected: [
      ['/interfaces-state/interface/name', { name: 'lo' }, 'lo'],
      ['/interfaces-state/interface/oper-status', { name: 'lo' }, 'unknown'],
      ['/interfaces-state/interface/statistics/in-octets', { name: 'lo' }, 3062267],
    ],
  },
  {
    name: 'prefixed elements are named by local name',
    xml: `<oc:interfaces xmlns:oc="http://openconfig.net/yang/interfaces"><oc:interface><oc:name>Ethernet1</oc:name><oc:state><oc:enabled>true</oc:enabled></oc:state></oc:interface></oc:interfaces>`,
    expected: [
      ['/interfaces/interface/name', { name: 'Ethernet1' }, 'Ethernet1'],
      ['/interfaces/interface/state/enabled', { name: 'Ethernet1' }, true],
    ],
  },
  {
    name: 'a key that comes after other leaves still labels them',
    xml: '<interfaces><interface><mtu>1500</mtu><name>e1</name></interface></interfaces>',
    expected: [
      ['/interfaces/interface/mtu', { name: 'e1' }, 1500],
      ['/interfaces/interface/name', { name: 'e1' }, 'e1'],
    ],
  },
  {
    name: 'nested lists carry both keys; a repeated key name is prefixed with its list',
    xml: '<network-instances><network-instance><name>default</name><protocols><protocol><identifier>BGP</identifier><name>bgp</name><bgp><neighbors><neighbor><neighbor-address>10.0.0.1</neighbor-address><state><peer-as>65001</peer-as></state></neighbor></neighbors></bgp></protocol></protocols></network-instance></network-instances>',
    expected: [
      ['/network-instances/network-instance/name', { name: 'default' }, 'default'],
      [
        '/network-instances/network-instance/protocols/protocol/identifier',
        { name: 'default', identifier: 'BGP', protocol_name: 'bgp' },
        'BGP',
      ],
      [
        '/network-instances/network-instance/protocols/protocol/name',
        { name: 'default', identifier: 'BGP', protocol_name: 'bgp' },
        'bgp',
      ],
      [
        '/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/neighbor-address',
        { name: 'default', identifier: 'BGP', protocol_name: 'bgp', 'neighbor-address': '10.0.0.1' },
        '10.0.0.1',
      ],
      [
        '/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/peer-as',
        { name: 'default', identifier: 'BGP', protocol_name: 'bgp', 'neighbor-address': '10.0.0.1' },
        65001,
      ],
    ],
  },
  {
    name: 'a list not in the key map gives leaves without labels',
    xml: '<system><clock><timezone-name>UTC</timezone-name></clock><entry><id>1</id></entry></system>',
    expected: [
      ['/system/clock/timezone-name', {}, 'UTC'],
      ['/system/entry/id', {}, 1],
    ],
  },
  {
    name: 'a configured key map names keys of other lists',
    xml: '<acl><acl-set><name>a</name><type>ipv4</type><seq>10</seq></acl-set></acl>',
    listKeys: { 'acl-set': ['name', 'type'] },
    expected: [
      ['/acl/acl-set/name', { name: 'a', type: 'ipv4' }, 'a'],
      ['/acl/acl-set/type', { name: 'a', type: 'ipv4' }, 'ipv4'],
      ['/acl/acl-set/seq', { name: 'a', type: 'ipv4' }, 10],
    ],
  },
  {
    name: 'entities, CDATA and empty leaves keep their text',
    xml: '<c><description>a &amp; b &lt;c&gt;</description><raw><![CDATA[<x>]]></raw><flag/></c>',
    expected: [
      ['/c/description', {}, 'a & b <c>'],
      ['/c/raw', {}, '<x>'],
      ['/c/flag', {}, ''],
    ],
  },
  {
    name: 'whitespace between elements (pretty printing) is not a value',
    xml: '<a>\n  <b>\n    <c>7</c>\n  </b>\n</a>',
    expected: [['/a/b/c', {}, 7]],
  },
];

describe('xmlToSamples', () => {
  for (const c of cases)
    it(`turns XML into rows: ${c.name}`, () => assert.deepEqual(rows(c.xml, c.listKeys), c.expected));

  it('rejects XML that is not well-formed with MalformedMessageError', () => {
    assert.throws(() => rows('<a><b>1</a>'), MalformedMessageError);
    assert.throws(() => rows('<a><b>1</b>'), MalformedMessageError);
    assert.throws(() => rows('<p:a>1</p:a>'), MalformedMessageError);
  });
});

describe('typedValue', () => {
  const table: [string, SampleValue][] = [
    ['42', 42],
    ['-7', -7],
    ['3.25', 3.25],
    ['1e3', 1000],
    ['true', true],
    ['false', false],
    ['18446744073709551615', '18446744073709551615'],
    ['9007199254740991', 9007199254740991],
    ['007', '007'],
    ['1.2.3.4', '1.2.3.4'],
    ['UP', 'UP'],
    ['', ''],
    [' 5 ', 5],
    ['Infinity', 'Infinity'],
    ['0x10', '0x10'],
  ];
  for (const [raw, want] of table)
    it(`types ${JSON.stringify(raw)} as ${JSON.stringify(want)}`, () => assert.equal(typedValue(raw), want));
});

describe('MessageReader', () => {
  it('reads rpc-error fields into the reply outcome', () => {
    let outcome: unknown;
    const reader = new MessageReader({
      hello: () => undefined,
      replyStart: () => ({}),
      replyEnd: (_id, o) => (outcome = o),
      notificationStart: () => undefined,
      notificationEnd: () => undefined,
    });
    reader.write(
      Buffer.from(
        '<rpc-reply message-id="7" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><rpc-error><error-type>protocol</error-type><error-tag>bad-attribute</error-tag><error-severity>error</error-severity><error-path>/rpc/get</error-path><error-message xml:lang="en">invalid XPath</error-message><error-info><bad-attribute>select</bad-attribute></error-info></rpc-error></rpc-reply>',
      ),
    );
    reader.end();
    assert.deepEqual(outcome, {
      ok: false,
      errors: [
        {
          errorType: 'protocol',
          errorTag: 'bad-attribute',
          severity: 'error',
          path: '/rpc/get',
          message: 'invalid XPath',
        },
      ],
    });
  });

  it('splits a multi-byte character across writes without corrupting it', () => {
    const got: string[] = [];
    const builder = new SampleBuilder({
      device: 'd',
      timestampNs: 1n,
      onBatch: (b) => got.push(...b.map((s) => String(s.value))),
    });
    const reader = new MessageReader({
      hello: () => undefined,
      replyStart: () => ({
        content: {
          open: (t) => builder.open(t.local),
          text: (t) => builder.text(t),
          close: () => builder.close(),
        },
      }),
      replyEnd: () => builder.finish(),
      notificationStart: () => undefined,
      notificationEnd: () => undefined,
    });
    const bytes = Buffer.from(
      '<rpc-reply message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><data><d>Zürich €</d></data></rpc-reply>',
    );
    for (let i = 0; i < bytes.length; i++) reader.write(bytes.subarray(i, i + 1));
    reader.end();
    assert.deepEqual(got, ['Zürich €']);
  });

  it('parses RFC 3339 event times to the nanosecond', () => {
    assert.equal(parseEventTime('2024-01-02T03:04:05.123456789Z'), 1704164645123456789n);
    assert.equal(parseEventTime('2024-01-02T05:04:05+02:00'), 1704164645000000000n);
    assert.equal(parseEventTime('yesterday'), undefined);
  });
});

describe('XML to rows under random and truncated input (fuzz)', () => {
  it('throws nothing but MalformedMessageError and ends in bounded time and memory', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const valid = `<rpc-reply message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><data><interfaces xmlns="x"><interface><name>e&amp;1</name><state><counters><in-octets>5</in-octets></counters></state></interface></interfaces></data></rpc-reply>`;
    const pieces = [
      '<',
      '>',
      '/',
      'a',
      '<a>',
      '</a>',
      '<![CDATA[',
      ']]>',
      '&',
      '&amp;',
      '&#x0;',
      '"',
      '=',
      'xmlns:p="u"',
      'p:',
      '<?x?>',
      '<!--',
      '-->',
      '\u0000',
      '\ud800',
    ];
    const started = Date.now();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let iter = 0; iter < 4000; iter++) {
      let input: string;
      const mode = rand(3);
      if (mode === 0) input = valid.slice(0, rand(valid.length + 1));
      else if (mode === 1) {
        const at = rand(valid.length);
        input = valid.slice(0, at) + (pieces[rand(pieces.length)] as string) + valid.slice(at + rand(3));
      } else {
        input = '';
        for (let k = rand(30); k >= 0; k--) input += pieces[rand(pieces.length)];
      }
      const reader = new MessageReader({
        hello: () => undefined,
        replyStart: () => {
          const b = new SampleBuilder({ device: 'd', timestampNs: 1n, onBatch: () => undefined });
          return {
            content: { open: (t) => b.open(t.local), text: (t) => b.text(t), close: () => b.close() },
          };
        },
        replyEnd: () => undefined,
        notificationStart: () => undefined,
        notificationEnd: () => undefined,
      });
      try {
        const bytes = Buffer.from(input);
        const step = 1 + rand(16);
        for (let p = 0; p < bytes.length; p += step) reader.write(bytes.subarray(p, p + step));
        reader.end();
      } catch (e) {
        assert.ok(e instanceof MalformedMessageError, `unexpected ${String(e)}`);
      }
    }
    assert.ok(Date.now() - started < 15_000);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 200 * 1024 * 1024);
  });
});
