/** The RPC bodies this client sends (RFC 6241 §7, RFC 5277 §2.1.1), as XML text. */

export type FilterSpec =
  | { readonly type: 'subtree'; readonly value: string }
  /** `namespaces` binds the prefixes the expression uses (prefix → namespace URI). */
  | {
      readonly type: 'xpath';
      readonly value: string;
      readonly namespaces?: Readonly<Record<string, string>>;
    };
export type Datastore = 'running' | 'candidate' | 'startup';

export const CAP_BASE_10 = 'urn:ietf:params:netconf:base:1.0';
export const CAP_BASE_11 = 'urn:ietf:params:netconf:base:1.1';
export const CAP_NOTIFICATION = 'urn:ietf:params:netconf:capability:notification:1.0';
export const CAP_INTERLEAVE = 'urn:ietf:params:netconf:capability:interleave:1.0';
export const CAP_XPATH = 'urn:ietf:params:netconf:capability:xpath:1.0';

export function escapeXmlAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A subtree filter is XML the user wrote and is sent as is; an XPath goes in the select attribute. */
export function filterXml(filter: FilterSpec | undefined): string {
  if (!filter) return '';
  if (filter.type === 'subtree') return `<filter type="subtree">${filter.value}</filter>`;
  const xmlns = Object.entries(filter.namespaces ?? {})
    .map(([prefix, uri]) => ` xmlns:${prefix}="${escapeXmlAttr(uri)}"`)
    .join('');
  return `<filter type="xpath"${xmlns} select="${escapeXmlAttr(filter.value)}"/>`;
}

export function getRpc(filter?: FilterSpec): string {
  return `<get>${filterXml(filter)}</get>`;
}

export function getConfigRpc(source: Datastore, filter?: FilterSpec): string {
  return `<get-config><source><${source}/></source>${filterXml(filter)}</get-config>`;
}

export function createSubscriptionRpc(stream?: string): string {
  const streamXml = stream ? `<stream>${escapeXmlAttr(stream)}</stream>` : '';
  return `<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0">${streamXml}</create-subscription>`;
}

export const CLOSE_SESSION_RPC = '<close-session/>';

export function wrapRpc(messageId: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><rpc message-id="${messageId}" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">${body}</rpc>`;
}

export function helloXml(capabilities: readonly string[]): string {
  const caps = capabilities.map((c) => `<capability>${escapeXmlAttr(c)}</capability>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>${caps}</capabilities></hello>`;
}

/** Capability URIs may carry parameters (`?module=...`); this compares the bare URI. */
export function hasCapability(capabilities: readonly string[], uri: string): boolean {
  return capabilities.some((c) => c === uri || c.startsWith(`${uri}?`));
}
