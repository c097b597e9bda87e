/**
 * The simulator's data: an OpenConfig-style interfaces tree of any size, produced in pieces so a
 * reply of hundreds of megabytes is written without ever being held whole.
 */

export const OC_INTERFACES_NS = 'http://openconfig.net/yang/interfaces';

/** Leaves per generated interface (name, 4 config, oper-status, 8 counters). */
export const LEAVES_PER_INTERFACE = 14;

const COUNTERS = [
  'in-octets',
  'in-unicast-pkts',
  'in-errors',
  'in-discards',
  'out-octets',
  'out-unicast-pkts',
  'out-errors',
  'out-discards',
] as const;

function interfaceXml(index: number, tick: number): string {
  const name = `Ethernet${index + 1}`;
  let counters = '';
  for (let c = 0; c < COUNTERS.length; c++) {
    const counter = COUNTERS[c] as string;
    counters += `<${counter}>${(index + 1) * 1000 + tick * (c + 1) * 17}</${counter}>`;
  }
  return (
    `<interface><name>${name}</name>` +
    `<config><name>${name}</name><mtu>9100</mtu><description>port ${index + 1} &amp; uplink</description><enabled>true</enabled></config>` +
    `<state><oper-status>${index % 7 === 0 ? 'DOWN' : 'UP'}</oper-status><counters>${counters}</counters></state>` +
    `</interface>`
  );
}

/** The `<interfaces>` element in parts of roughly `partChars` characters. */
export function* interfacesTree(count: number, tick: number, partChars = 64 * 1024): Generator<string> {
  let part = `<interfaces xmlns="${OC_INTERFACES_NS}">`;
  for (let i = 0; i < count; i++) {
    part += interfaceXml(i, tick);
    if (part.length >= partChars) {
      yield part;
      part = '';
    }
  }
  yield `${part}</interfaces>`;
}

/** The running configuration the simulator reports for `<get-config>`. */
export function runningConfigXml(count: number): string {
  let xml = `<interfaces xmlns="${OC_INTERFACES_NS}">`;
  for (let i = 0; i < Math.min(count, 64); i++) {
    xml += `<interface><name>Ethernet${i + 1}</name><config><name>Ethernet${i + 1}</name><mtu>9100</mtu></config></interface>`;
  }
  return `${xml}</interfaces>`;
}
