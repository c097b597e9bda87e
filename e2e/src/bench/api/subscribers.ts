/**
 * Child process of the live benchmark: opens N graphql-ws clients (graphql-ws's own client, one
 * WebSocket each) against the API, subscribes each to one device, and reports commit-to-receipt
 * latencies to the parent. The publisher puts its commit time (epoch ms, fractional) in the
 * sample value; the receipt time is taken when the client's `next` callback runs.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

interface Start {
  url: string;
  count: number;
  namespace: string;
  name: string;
}

/** What the parent gets on `report`: everything received since the previous report. */
export interface ClientReport {
  type: 'report';
  latencies: number[];
  /** Sum of the `dropped` fields received. */
  dropped: number;
  /** Epoch ms of the latest receipt (0 when none). */
  lastReceipt: number;
}

const now = () => performance.timeOrigin + performance.now();
let latencies: number[] = [];
let dropped = 0;
let lastReceipt = 0;
const clients: Client[] = [];

process.on('message', (msg: { type: string } & Partial<Start>) => {
  if (msg.type === 'start') void start(msg as Start);
  if (msg.type === 'report') {
    const report: ClientReport = { type: 'report', latencies, dropped, lastReceipt };
    latencies = [];
    dropped = 0;
    process.send!(report);
  }
  if (msg.type === 'stop') {
    void Promise.all(clients.map((c) => c.dispose())).then(() => process.exit(0));
  }
});

async function start(o: Start): Promise<void> {
  const query = `subscription($ns: String!, $n: String!) { deviceUpdates(namespace: $ns, name: $n) { sequence dropped values { value } } }`;
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
          client.on('connected', () => resolve());
          client.subscribe<{ deviceUpdates: { dropped: number; values: { value: number }[] } }>(
            { query, variables: { ns: o.namespace, n: o.name } },
            {
              next: (m) => {
                const received = now();
                const update = m.data?.deviceUpdates;
                const v = update?.values[0]?.value;
                if (typeof v === 'number' && v > 1e12) {
                  latencies.push(received - v);
                  lastReceipt = received;
                }
                dropped += update?.dropped ?? 0;
              },
              error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
              complete: () => undefined,
            },
          );
        });
      }),
    );
  }
  process.send!({ type: 'ready', subscribed: clients.length });
}
