/**
 * A NETCONF-over-SSH server for tests (ssh2's server side) that can misbehave on request: slow
 * replies, malformed XML, broken chunk framing, rpc-errors, closing in the middle of a reply.
 * It serves hello (base 1.0 and/or 1.1), `<get>`/`<get-config>` from a generated interfaces tree
 * of configurable size, RFC 5277 notifications, and `<close-session>`. Loopback only.
 *
 * Its framing and request parsing are written independently of the worker's, on purpose: a bug
 * shared by both sides would otherwise go unseen.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection, type ServerChannel } from 'ssh2';
// ssh2 is CommonJS whose Server export Node's ESM loader cannot see by name.
const { Server, utils } = ssh2;
import { interfacesTree, runningConfigXml } from './interfaces-tree.js';

export { LEAVES_PER_INTERFACE, OC_INTERFACES_NS } from './interfaces-tree.js';

export type NetconfMisbehaviour =
  | { readonly kind: 'none' }
  /** Every reply waits this long first. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Replies are well framed but not well-formed XML. */
  | { readonly kind: 'malformed-xml' }
  /** Replies carry an invalid chunk header (base:1.1) or never end (1.0). */
  | { readonly kind: 'framing-error' }
  /** Half of a `<get>` reply is sent, then the connection is closed. */
  | { readonly kind: 'close-mid-reply' }
  /** get/get-config are answered with an rpc-error. */
  | { readonly kind: 'rpc-error'; readonly errorTag: string };

export interface NetconfSimulatorOptions {
  /** A loopback address (default 127.0.0.1), e.g. 127.0.0.14 to stand for one switch of many. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly username?: string;
  readonly password?: string;
  /** An OpenSSH public key line accepted for public-key authentication. */
  readonly authorizedKey?: string;
  /** Interfaces in the generated tree (14 leaves each). */
  readonly interfaces?: number;
  readonly baseVersions?: readonly ('1.0' | '1.1')[];
  /** Advertise :notification and :interleave (default true). */
  readonly notifications?: boolean;
  readonly misbehaviour?: NetconfMisbehaviour;
}

export interface NetconfSimulatorStats {
  readonly sessions: number;
  readonly rpcs: Readonly<Record<string, number>>;
  /** Most requests a single session had unanswered at once. */
  readonly maxOutstanding: number;
  readonly closeSessions: number;
  readonly subscriptions: number;
  readonly lastRequest: string | undefined;
}

export interface NetconfSimulator {
  readonly port: number;
  /** The host key's public half as an OpenSSH line (`ssh-ed25519 AAAA...`). */
  readonly hostKey: string;
  setMisbehaviour(misbehaviour: NetconfMisbehaviour): void;
  setInterfaces(count: number): void;
  /** Sends an event (XML of the event element) to every subscribed session. */
  notify(eventXml: string): void;
  stats(): NetconfSimulatorStats;
  stop(): Promise<void>;
}

const BASE_NS = 'urn:ietf:params:xml:ns:netconf:base:1.0';
const EOM = ']]>]]>';

interface SessionState {
  framing: 'eom' | 'chunked';
  helloDone: boolean;
  subscribed: boolean;
  outstanding: number;
  input: Buffer;
  /** Writes are serialised so replies never interleave. */
  writing: Promise<void>;
}

/**
 * An ed25519 key pair in OpenSSH format. ssh2 generates, about once in 300 tries, a private key
 * its own parser then rejects ("Malformed OpenSSH private key"): generate until it parses.
 */
export function generateSshKeyPair(): { private: string; public: string } {
  for (;;) {
    const keys = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(keys.private) instanceof Error)) return keys;
  }
}

export async function startNetconfSimulator(
  options: NetconfSimulatorOptions = {},
): Promise<NetconfSimulator> {
  const username = options.username ?? 'admin';
  const password = options.password ?? 'admin';
  const versions = options.baseVersions ?? ['1.0', '1.1'];
  const notifications = options.notifications ?? true;
  const authorized = options.authorizedKey ? utils.parseKey(options.authorizedKey) : undefined;
  if (authorized instanceof Error) throw authorized;
  const keys = generateSshKeyPair();
  let misbehaviour: NetconfMisbehaviour = options.misbehaviour ?? { kind: 'none' };
  let interfaces = options.interfaces ?? 4;
  let tick = 0;
  let nextSessionId = 1;
  const stats = {
    sessions: 0,
    rpcs: {} as Record<string, number>,
    maxOutstanding: 0,
    closeSessions: 0,
    subscriptions: 0,
    lastRequest: undefined as string | undefined,
  };
  const live = new Map<ServerChannel, SessionState>();
  const clients = new Set<Connection>();

  const capabilities = [
    ...versions.map((v) => `urn:ietf:params:netconf:base:${v}`),
    'urn:ietf:params:netconf:capability:xpath:1.0',
    ...(notifications
      ? [
          'urn:ietf:params:netconf:capability:notification:1.0',
          'urn:ietf:params:netconf:capability:interleave:1.0',
        ]
      : []),
    'http://openconfig.net/yang/interfaces?module=openconfig-interfaces&revision=2021-04-06',
  ];

  const frame = (state: SessionState, xml: string): string =>
    state.framing === 'eom' ? xml : `\n#${Buffer.byteLength(xml)}\n${xml}`;
  const endFrame = (state: SessionState): string => (state.framing === 'eom' ? EOM : '\n##\n');

  async function write(channel: ServerChannel, data: string): Promise<void> {
    if (channel.write(data)) return;
    // Wait for drain (or the end of the channel) without leaving listeners behind.
    const done = new AbortController();
    await Promise.race([
      once(channel, 'drain', { signal: done.signal }),
      once(channel, 'close', { signal: done.signal }),
    ]).catch(() => undefined);
    done.abort();
  }

  async function sendMessage(
    channel: ServerChannel,
    state: SessionState,
    parts: Iterable<string>,
  ): Promise<void> {
    for (const part of parts) if (part.length > 0) await write(channel, frame(state, part));
    await write(channel, endFrame(state));
  }

  function* replyParts(messageId: string, body: Iterable<string>): Generator<string> {
    yield `<rpc-reply message-id="${messageId}" xmlns="${BASE_NS}">`;
    yield* body;
    yield '</rpc-reply>';
  }

  async function answer(
    channel: ServerChannel,
    state: SessionState,
    request: string,
    connection: Connection,
  ): Promise<void> {
    stats.lastRequest = request;
    const messageId = /message-id="([^"]*)"/.exec(request)?.[1] ?? '';
    const operation = /<(?:[\w-]+:)?rpc\b[^>]*>\s*<(?:[\w-]+:)?([\w-]+)/.exec(request)?.[1] ?? 'unknown';
    stats.rpcs[operation] = (stats.rpcs[operation] ?? 0) + 1;
    const m = misbehaviour;
    if (m.kind === 'slow') await new Promise((r) => setTimeout(r, m.delayMs));
    if (channel.destroyed || !live.has(channel)) return;
    const collects = operation === 'get' || operation === 'get-config';

    if (operation === 'close-session') {
      stats.closeSessions++;
      await sendMessage(channel, state, replyParts(messageId, ['<ok/>']));
      channel.close();
      connection.end();
      return;
    }
    if (operation === 'create-subscription') {
      state.subscribed = true;
      stats.subscriptions++;
      return sendMessage(channel, state, replyParts(messageId, ['<ok/>']));
    }
    if (!collects) {
      return sendMessage(
        channel,
        state,
        replyParts(messageId, [
          '<rpc-error><error-type>protocol</error-type><error-tag>operation-not-supported</error-tag><error-severity>error</error-severity></rpc-error>',
        ]),
      );
    }
    if (m.kind === 'rpc-error') {
      return sendMessage(
        channel,
        state,
        replyParts(messageId, [
          `<rpc-error><error-type>application</error-type><error-tag>${m.errorTag}</error-tag><error-severity>error</error-severity><error-message xml:lang="en">simulated failure</error-message></rpc-error>`,
        ]),
      );
    }
    if (m.kind === 'malformed-xml') {
      return sendMessage(channel, state, [
        `<rpc-reply message-id="${messageId}" xmlns="${BASE_NS}"><data><interfaces><interface><name>x</nme></interface></data></rpc-reply>`,
      ]);
    }
    if (m.kind === 'framing-error') {
      await write(
        channel,
        state.framing === 'chunked'
          ? '\n#12x\n<rpc-reply/>'
          : `<rpc-reply message-id="${messageId}" xmlns="${BASE_NS}"><data>`,
      );
      return;
    }
    tick++;
    const body = operation === 'get' ? interfacesTree(interfaces, tick) : [runningConfigXml(interfaces)];
    if (m.kind === 'close-mid-reply') {
      await write(channel, frame(state, `<rpc-reply message-id="${messageId}" xmlns="${BASE_NS}"><data>`));
      await write(channel, frame(state, '<interfaces><interface><name>Ethernet1</name>'));
      connection.end();
      return;
    }
    await sendMessage(channel, state, replyParts(messageId, dataParts(body)));
  }

  function* dataParts(body: Iterable<string>): Generator<string> {
    yield '<data>';
    yield* body;
    yield '</data>';
  }

  /** Splits complete client messages out of the input buffer (independent of the worker's decoder). */
  function nextMessage(state: SessionState): string | undefined {
    if (state.framing === 'eom') {
      const at = state.input.indexOf(EOM);
      if (at < 0) return undefined;
      const msg = state.input.subarray(0, at).toString('utf8');
      state.input = state.input.subarray(at + EOM.length);
      return msg;
    }
    let pos = 0;
    const parts: Buffer[] = [];
    for (;;) {
      const header = /^\n#(\d+|#)\n/.exec(state.input.subarray(pos, pos + 16).toString('latin1'));
      if (!header) return undefined;
      pos += header[0].length;
      if (header[1] === '#') break;
      const size = Number(header[1]);
      if (state.input.length < pos + size) return undefined;
      parts.push(state.input.subarray(pos, pos + size));
      pos += size;
    }
    state.input = state.input.subarray(pos);
    return Buffer.concat(parts).toString('utf8');
  }

  function onInput(channel: ServerChannel, state: SessionState, connection: Connection, chunk: Buffer): void {
    state.input = Buffer.concat([state.input, chunk]);
    for (let msg = nextMessage(state); msg !== undefined; msg = nextMessage(state)) {
      if (!state.helloDone) {
        state.helloDone = true;
        if (versions.includes('1.1') && msg.includes('urn:ietf:params:netconf:base:1.1'))
          state.framing = 'chunked';
        continue;
      }
      state.outstanding++;
      // close-session may overtake an unanswered poll on shutdown; the one-in-flight rule is about polls.
      if (!msg.includes('<close-session'))
        stats.maxOutstanding = Math.max(stats.maxOutstanding, state.outstanding);
      const request = msg;
      state.writing = state.writing
        .then(() => answer(channel, state, request, connection))
        .catch(() => undefined)
        .finally(() => {
          state.outstanding--;
        });
    }
  }

  const server = new Server({ hostKeys: [keys.private] }, (connection) => {
    clients.add(connection);
    connection.on('error', () => undefined);
    connection.on('close', () => clients.delete(connection));
    connection.on('authentication', (ctx) => {
      if (ctx.username === username && ctx.method === 'password' && ctx.password === password)
        return ctx.accept();
      if (ctx.username === username && ctx.method === 'publickey' && authorized) {
        if (ctx.key.algo === authorized.type && ctx.key.data.equals(authorized.getPublicSSH())) {
          if (!ctx.signature) return ctx.accept();
          if (ctx.blob && authorized.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true)
            return ctx.accept();
        }
      }
      ctx.reject(['password', 'publickey']);
    });
    connection.on('ready', () => {
      connection.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('subsystem', (accept, reject, info) => {
          if (info.name !== 'netconf') return reject();
          const channel = accept();
          stats.sessions++;
          const state: SessionState = {
            framing: 'eom',
            helloDone: false,
            subscribed: false,
            outstanding: 0,
            input: Buffer.alloc(0),
            writing: Promise.resolve(),
          };
          live.set(channel, state);
          channel.on('close', () => live.delete(channel));
          channel.on('error', () => undefined);
          channel.on('data', (chunk: Buffer) => onInput(channel, state, connection, chunk));
          const caps = capabilities
            .map((c) => `<capability>${c.replace(/&/g, '&amp;')}</capability>`)
            .join('');
          channel.write(
            `<?xml version="1.0" encoding="UTF-8"?><hello xmlns="${BASE_NS}"><capabilities>${caps}</capabilities><session-id>${nextSessionId++}</session-id></hello>${EOM}`,
          );
        });
      });
    });
  });

  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    hostKey: keys.public,
    setMisbehaviour(m) {
      misbehaviour = m;
    },
    setInterfaces(count) {
      interfaces = count;
    },
    notify(eventXml) {
      const xml = `<notification xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"><eventTime>${new Date().toISOString()}</eventTime>${eventXml}</notification>`;
      for (const [channel, state] of live) {
        if (!state.subscribed) continue;
        state.writing = state.writing.then(() => sendMessage(channel, state, [xml])).catch(() => undefined);
      }
    },
    stats: () => ({ ...stats, rpcs: { ...stats.rpcs } }),
    async stop() {
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
