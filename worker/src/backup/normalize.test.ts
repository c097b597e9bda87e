import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, canonicalXml, MalformedConfigError, normalizeConfig } from './normalize.js';

const NC = 'urn:ietf:params:xml:ns:netconf:base:1.0';
const OC = 'http://openconfig.net/yang/interfaces';

describe('canonical XML', () => {
  const base = `<data xmlns="${NC}"><interfaces xmlns="${OC}"><interface><name>Ethernet1</name><config><mtu>9100</mtu></config></interface></interfaces></data>`;
  const sameAsBase: Array<[string, string]> = [
    [
      'indented with spaces and newlines',
      `<data xmlns="${NC}">\n  <interfaces xmlns="${OC}">\n    <interface>\n      <name>Ethernet1</name>\n      <config>\n        <mtu>9100</mtu>\n      </config>\n    </interface>\n  </interfaces>\n</data>\n`,
    ],
    [
      'indented with tabs and CRLF',
      `<data xmlns="${NC}">\r\n\t<interfaces xmlns="${OC}">\r\n\t\t<interface><name>Ethernet1</name>\r\n<config><mtu>9100</mtu></config></interface></interfaces></data>`,
    ],
    [
      'with spaces around its attribute syntax',
      `<data  xmlns = "${NC}" ><interfaces xmlns="${OC}"><interface><name>Ethernet1</name><config><mtu>9100</mtu></config></interface></interfaces></data>`,
    ],
  ];
  for (const [name, variant] of sameAsBase) {
    it(`treats a configuration ${name} as the same`, () => {
      assert.equal(canonicalXml(variant), canonicalXml(base));
    });
  }

  it('treats an empty element written out in full as the self-closed one', () => {
    assert.equal(canonicalXml('<c><enabled></enabled></c>'), canonicalXml('<c><enabled/></c>'));
  });

  it('treats attributes in another order as the same', () => {
    assert.equal(
      canonicalXml(`<data xmlns="${NC}"><a z="1" xmlns:x="urn:x" b="2" x:c="3"/></data>`),
      canonicalXml(`<data xmlns="${NC}"><a x:c="3" b="2" z="1" xmlns:x="urn:x"></a></data>`),
    );
  });

  const different: Array<[string, string]> = [
    ['a changed leaf value', base.replace('9100', '1500')],
    ['a leaf value with a leading zero', base.replace('9100', '09100')],
    ['a leaf value with surrounding spaces', base.replace('9100', ' 9100 ')],
    [
      'siblings in another order',
      base.replace(
        '<name>Ethernet1</name><config><mtu>9100</mtu></config>',
        '<config><mtu>9100</mtu></config><name>Ethernet1</name>',
      ),
    ],
  ];
  for (const [name, variant] of different) {
    it(`sees ${name} as a change`, () => {
      assert.notEqual(canonicalXml(variant), canonicalXml(base));
    });
  }

  it('writes one element per line, indented, with entities kept escaped', () => {
    const out = canonicalXml(
      `<data xmlns="${NC}"><system><banner>a &amp; b &lt;c&gt;</banner><empty></empty></system></data>`,
    );
    assert.equal(
      out,
      [
        `<data xmlns="${NC}">`,
        '  <system>',
        '    <banner>a &amp; b &lt;c&gt;</banner>',
        '    <empty/>',
        '  </system>',
        '</data>',
        '',
      ].join('\n'),
    );
  });

  it('keeps namespace prefixes, comments and CDATA', () => {
    const out = canonicalXml(
      `<data xmlns="${NC}"><x:a xmlns:x="urn:x">v</x:a><!-- note --><b><![CDATA[<raw>]]></b></data>`,
    );
    assert.match(out, /<x:a xmlns:x="urn:x">v<\/x:a>/);
    assert.match(out, /<!-- note -->/);
    assert.match(out, /<!\[CDATA\[<raw>\]\]>/);
  });

  it('is stable: the canonical form of the canonical form is itself', () => {
    const once = canonicalXml(sameAsBase[0]![1]);
    assert.equal(canonicalXml(once), once);
  });

  it('rejects XML that is not well-formed', () => {
    assert.throws(() => canonicalXml('<data><a></data>'), MalformedConfigError);
  });
});

describe('canonical JSON', () => {
  it('orders object keys at every depth and indents by two spaces', () => {
    assert.equal(
      canonicalJson('{"b":{"y":1,"x":2},"a":[3,1]}'),
      '{\n  "a": [\n    3,\n    1\n  ],\n  "b": {\n    "x": 2,\n    "y": 1\n  }\n}\n',
    );
  });

  it('treats the same document with keys in another order as the same', () => {
    assert.equal(
      canonicalJson('{"a":1,"b":{"c":true,"d":null}}'),
      canonicalJson('{ "b": { "d": null, "c": true }, "a": 1 }'),
    );
  });

  it('keeps list order, which can be meaningful', () => {
    assert.notEqual(canonicalJson('[{"seq":1},{"seq":2}]'), canonicalJson('[{"seq":2},{"seq":1}]'));
  });

  it('rejects text that is not JSON', () => {
    assert.throws(() => canonicalJson('{"a":'), MalformedConfigError);
  });
});

describe('normalizeConfig', () => {
  it('hashes the canonical form with SHA-256, so layout noise keeps the hash', () => {
    const a = normalizeConfig({ content: '<c><a>1</a></c>', format: 'xml' });
    const b = normalizeConfig({ content: '<c>\n  <a>1</a>\n</c>', format: 'xml' });
    assert.equal(a.hash, b.hash);
    assert.match(a.hash, /^[0-9a-f]{64}$/);
    assert.notEqual(normalizeConfig({ content: '<c><a>2</a></c>', format: 'xml' }).hash, a.hash);
  });
});
