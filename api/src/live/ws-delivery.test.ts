import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'graphql';
import { WebSocket, WebSocketServer } from 'ws';
import { LiveFeed } from '@switchforge/worker/live/live-feed';
import { startLiveServer, type LiveServer } from '@switchforge/worker/live/live-server';
import { buildSchema } from '../schema/index.js';
import { wireSampleView } from '../schema/views.js';
import { LiveHub, type LiveEvent } from './live-hub.js';
import { WsLiveDelivery } from './ws-delivery.js';

const QUERY =
  'subscription { deviceUpdates(namespace: "lab", name: "leaf1") { sequence dropped values { path } } }';
const schema = buildSchema();
const rootValue = (e: LiveEvent, dropped: number) => ({
  deviceUpdates: {
    namespace: 'lab',
    name: 'leaf1',
    sequence: e.kind === 'batch' ? e.seq : e.resumeFrom,
    committedAt: new Date(),
    values: e.kind === 'batch' ? e.samples.map(wireSampleView) : [],
    dropped,
    gap: null,
  },
});

interface Next {
  id: string;
  type: string;
  payload: { data: { deviceUpdates: { sequence: string; dropped: number; values: { path: string }[] } } };
}

let feed: LiveFeed;
let live: LiveServer;
let wss: WebSocketServer;
const connections: { socket: WebSocket; request: IncomingMessage }[] = [];

before(async () => {
  feed = new LiveFeed();
  live = await startLiveServer(feed, { host: '127.0.0.1', port: 0, heartbeatMs: 1_000 });
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket, request) => connections.push({ socket, request }));
  await new Promise((r) => wss.once('listening', r));
});
after(async () => {
  await new Promise((r) => wss.close(r));
  await live.close();
});

async function connect(): Promise<{
  client: WebSocket;
  messages: Next[];
  server: (typeof connections)[number];
}> {
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const messages: Next[] = [];
  client.on('message', (data) => messages.push(JSON.parse(String(data)) as Next));
  const n = connections.length;
  await new Promise((r) => client.once('open', r));
  while (connections.length === n) await sleep(5);
  return { client, messages, server: connections[n]! };
}

test('subscribers with one operation share each payload, and a slow one loses its oldest updates, told in its next message', async () => {
  const hub = new LiveHub(
    { locate: async () => ({ url: `http://127.0.0.1:${live.port}`, holder: 'worker-0' }) },
    { queueCapacity: 4, lingerMs: 0 },
  );
  const delivery = new WsLiveDelivery({ maskError: (e) => e, highWaterBytes: 16 * 1024 });
  const operation = {
    schema,
    document: parse(QUERY),
    operationName: null,
    variableValues: null,
    contextValue: {},
    query: QUERY,
  };
  const fast = await connect();
  const slow = await connect();
  const subs = [fast, slow].map((c) =>
    delivery
      .target(c.server.socket, c.server.request.socket, '1', operation)
      .attach(hub, 'lab', 'leaf1', {}, rootValue),
  );
  for (let i = 0; i < 200 && live.readers().length === 0; i++) await sleep(10);
  await sleep(50);

  // The slow client stops reading; publish until its socket holds more than the high-water mark.
  slow.client.pause();
  const samples = (i: number) =>
    Array.from({ length: 20 }, (_, k) => ({
      device: 'lab/leaf1',
      path: `/interfaces/interface[name=Ethernet${k}]/state/counters/in-octets/${'x'.repeat(400)}`,
      labels: {},
      timestampNs: BigInt(i),
      value: i,
    }));
  let published = 0;
  while (slow.server.socket.bufferedAmount < 16 * 1024 && published < 20_000) {
    feed.publish({ device: 'lab/leaf1', samples: samples(published++) });
    await sleep(published % 20 === 0 ? 5 : 0);
  }
  assert.ok(slow.server.socket.bufferedAmount >= 16 * 1024, 'the slow socket never filled');
  for (let i = 0; i < 10; i++) feed.publish({ device: 'lab/leaf1', samples: samples(published++) });
  const last = String(feed.head('lab/leaf1'));
  for (let i = 0; i < 500 && fast.messages.at(-1)?.payload.data.deviceUpdates.sequence !== last; i++)
    await sleep(10);
  slow.client.resume();
  for (let i = 0; i < 500 && slow.messages.at(-1)?.payload.data.deviceUpdates.sequence !== last; i++)
    await sleep(10);

  const fastUpdates = fast.messages.map((m) => m.payload.data.deviceUpdates);
  assert.equal(fastUpdates.length, published);
  assert.ok(fastUpdates.every((u) => u.dropped === 0 && u.values.length === 20));
  const slowUpdates = slow.messages.map((m) => m.payload.data.deviceUpdates);
  const dropped = slowUpdates.reduce((n, u) => n + u.dropped, 0);
  assert.ok(dropped >= 6, `dropped ${dropped}`);
  assert.equal(slowUpdates.length + dropped, published);
  assert.equal(slowUpdates.at(-1)?.sequence, last);
  const seqs = slowUpdates.map((u) => BigInt(u.sequence));
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!));
  assert.ok(slow.messages.every((m) => m.type === 'next' && m.id === '1'));

  // Returning graphql-ws's iterator leaves the hub at once.
  assert.equal(hub.subscriberCount, 2);
  await Promise.all(subs.map((s) => s.return?.()));
  assert.equal(hub.subscriberCount, 0);
  fast.client.close();
  slow.client.close();
  await hub.close();
});

test('a shared payload still reaches only subscribers of its device, filtered to each one’s path prefix', async () => {
  const hub = new LiveHub(
    { locate: async () => ({ url: `http://127.0.0.1:${live.port}`, holder: 'worker-0' }) },
    { lingerMs: 0 },
  );
  const delivery = new WsLiveDelivery({ maskError: (e) => e });
  const operation = {
    schema,
    document: parse(QUERY),
    operationName: null,
    variableValues: null,
    contextValue: {},
    query: QUERY,
  };
  const all = await connect();
  const system = await connect();
  const other = await connect();
  const attach = (
    c: Awaited<ReturnType<typeof connect>>,
    namespace: string,
    options: { pathPrefix?: string },
  ) =>
    delivery
      .target(c.server.socket, c.server.request.socket, '7', operation)
      .attach(hub, namespace, 'leaf1', options, rootValue);
  const subs = [
    attach(all, 'lab', {}),
    attach(system, 'lab', { pathPrefix: '/system' }),
    attach(other, 'other', {}),
  ];
  for (let i = 0; i < 200 && live.readers().length < 2; i++) await sleep(10);
  await sleep(50);
  const sample = (path: string) => ({ device: 'lab/leaf1', path, labels: {}, timestampNs: 1n, value: 1 });
  feed.publish({ device: 'lab/leaf1', samples: [sample('/interfaces/x'), sample('/system/uptime')] });
  feed.publish({ device: 'lab/leaf1', samples: [sample('/interfaces/y')] });
  const last = String(feed.head('lab/leaf1'));
  for (let i = 0; i < 300 && all.messages.at(-1)?.payload.data.deviceUpdates.sequence !== last; i++)
    await sleep(10);
  await sleep(100);
  const paths = (c: Awaited<ReturnType<typeof connect>>) =>
    c.messages.map((m) => m.payload.data.deviceUpdates.values.map((v) => v.path));
  assert.deepEqual(paths(all), [['/interfaces/x', '/system/uptime'], ['/interfaces/y']]);
  assert.deepEqual(paths(system), [['/system/uptime']]);
  assert.deepEqual(paths(other), []);
  await Promise.all(subs.map((s) => s.return?.()));
  for (const c of [all, system, other]) c.client.close();
  await hub.close();
});
