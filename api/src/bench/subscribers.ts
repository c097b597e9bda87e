/**
 * Child process of the live benchmark: opens N graphql-ws clients (one WebSocket each) against
 * the API, subscribes each to one device, and reports commit-to-receipt latencies to the parent.
 * The publisher puts its commit time (epoch ms, fractional) in the sample value.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

interface Start {
  url: string;
  count: number;
  namespace: string;
  name: string;
}

const now = () => performance.timeOrigin + performance.now();
const latencies: number[] = [];
const clients: Client[] = [];
let subscribed = 0;

process.on('message', (msg: { type: string } & Partial<Start>) => {
  if (msg.type === 'start') void start(msg as Start);
  if (msg.type === 'report') {
    process.send!({ type: 'report', latencies: latencies.splice(0) });
  }
  if (msg.type === 'stop') {
    void Promise.all(clients.map((c) => c.dispose())).then(() => process.exit(0));
  }
});

async function start(o: Start): Promise<void> {
  const query = `subscription($ns: String!, $n: String!) { deviceUpdates(namespace: $ns, name: $n) { sequence values { value } } }`;
  const batch = 200;
  for (let i = 0; i < o.count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, o.count - i) }, async () => {
        const client = createClient({
          url: o.url.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          connectionParams: { authorization: 'Bearer bench' },
        });
        clients.push(client);
        await new Promise<void>((resolve, reject) => {
          let first = true;
          client.on('connected', () => setTimeout(resolve, 20));
          client.subscribe<{ deviceUpdates: { values: { value: number }[] } }>(
            { query, variables: { ns: o.namespace, n: o.name } },
            {
              next: (m) => {
                const v = m.data?.deviceUpdates.values[0]?.value;
                if (typeof v === 'number' && v > 1e12) latencies.push(now() - v);
                if (first) first = false;
              },
              error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
              complete: () => undefined,
            },
          );
        });
        subscribed++;
      }),
    );
  }
  process.send!({ type: 'ready', subscribed });
}
