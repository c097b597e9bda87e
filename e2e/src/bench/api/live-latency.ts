import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiServer } from '@switchforge/api/server';
import type { PublisherReply } from './live-publisher.js';
import type { ClientReport } from './subscribers.js';

export interface LatencyResult {
  subscribers: number;
  /** Processes the graphql-ws clients ran in (one WebSocket per subscriber). */
  clientProcesses: number;
  /** Batches published at `intervalMs` apart. */
  batches: number;
  /** Updates received in the paced phase (expected: batches × subscribers). */
  messages: number;
  /** Sum of the `dropped` fields the clients were told of. */
  dropped: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Updates per second delivered in the paced phase (the offered load: subscribers × 1000 / intervalMs). */
  fanoutPerSecond: number;
  /** Updates per second when `burst` batches are committed at once: what one replica can fan out here. */
  burstFanoutPerSecond: number;
  rssPer1000SubscribersMiB: number;
  /** JavaScript heap (after a full collection) per 1,000 subscribers. */
  heapPer1000SubscribersMiB: number;
  /** 1-minute load average of the machine at the end of this step. */
  loadAverage: number;
}

export interface LatencyOptions {
  /** Paced batches (one sample each); 100 by default. */
  batches?: number;
  intervalMs?: number;
  /** Batches committed back to back after the paced phase, to measure the fan-out rate at saturation. */
  burst?: number;
  /** At most this many clients per client process. */
  clientsPerProcess?: number;
}

/** A full collection before each RSS reading, so the figure is what subscribers hold, not garbage. */
function collectGarbage(): void {
  if (!global.gc) setFlagsFromString('--expose-gc');
  (global.gc ?? (runInNewContext('gc') as () => void))();
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A child process of the benchmark (the clients, or the worker side), spoken to over IPC. */
export class BenchProcess {
  private readonly child: ChildProcess;
  private exited = false;

  constructor(module: 'subscribers.ts' | 'live-publisher.ts') {
    this.child = fork(fileURLToPath(new URL(`./${module}`, import.meta.url)), [], {
      execArgv: [
        '--import',
        'tsx',
        '--max-old-space-size=4096',
        ...(process.env.SWITCHFORGE_BENCH_CPU_PROF_DIR
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SWITCHFORGE_BENCH_CPU_PROF_DIR}`]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.once('exit', () => (this.exited = true));
  }

  /** The next message of type `reply` (after sending `message`, when given). */
  request<T extends { type: string }>(
    message: ({ type: string } & Record<string, unknown>) | undefined,
    reply: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onMessage = (m: T) => {
        if (m.type !== reply) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => reject(new Error(`subscriber process exited with ${code}`));
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      if (message) this.child.send(message);
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'stop' });
    await exit;
  }
}

/** The worker side of the benchmark: a LiveFeed and its live server in a process of their own. */
export class BenchPublisher {
  private constructor(
    private readonly process: BenchProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<BenchPublisher> {
    const p = new BenchProcess('live-publisher.ts');
    const { port } = await p.request<PublisherReply>(undefined, 'listening');
    return new BenchPublisher(p, port!);
  }

  /** Commits `count` batches `intervalMs` apart (0: at once); resolves with the first commit time. */
  async publish(device: string, count: number, intervalMs: number): Promise<number> {
    const r = await this.process.request<PublisherReply>(
      { type: 'publish', device, count, intervalMs },
      'published',
    );
    return r.first!;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

/**
 * Commit-to-receipt latency through the whole live path on one API replica: the worker side
 * (BenchPublisher, a process of its own) commits batches of one sample, stamping the commit time
 * (epoch ms, fractional) into the value right before `LiveFeed.publish`; the API reads them from
 * its live server over loopback HTTP and fans them out over graphql-ws to `subscribers` real
 * clients (graphql-ws's own client, one WebSocket each) in child processes on this machine, which
 * stamp the receipt when their `next` callback runs. Then a burst of batches committed at once
 * measures the fan-out rate the replica sustains.
 */
export async function measureLiveLatency(
  api: ApiServer,
  publisher: BenchPublisher,
  device: { namespace: string; name: string },
  subscribers: number,
  options: LatencyOptions = {},
): Promise<LatencyResult> {
  const perProcess = options.clientsPerProcess ?? 5_000;
  const processes = Array.from(
    { length: Math.max(1, Math.ceil(subscribers / perProcess)) },
    () => new BenchProcess('subscribers.ts'),
  );
  try {
    collectGarbage();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    const baseline = api.services.hub.subscriberCount;
    await Promise.all(
      processes.map((p, i) => {
        const count = Math.min(perProcess, subscribers - i * perProcess);
        return p.request({ type: 'start', url: api.url, count, ...device }, 'ready');
      }),
    );
    // Ready means every subscription is registered with the hub, not only acknowledged on the socket.
    for (let i = 0; i < 600 && api.services.hub.subscriberCount < baseline + subscribers; i++)
      await sleep(50);
    await sleep(500);
    collectGarbage();
    const rssAfter = process.memoryUsage().rss;
    const heapAfter = process.memoryUsage().heapUsed;

    const key = `${device.namespace}/${device.name}`;
    const collect = async (
      expected: number,
    ): Promise<{ latencies: number[]; dropped: number; last: number }> => {
      let latencies: number[] = [];
      let dropped = 0;
      let last = 0;
      for (let t = 0; t < 240; t++) {
        const reports = await Promise.all(
          processes.map((p) => p.request<ClientReport>({ type: 'report' }, 'report')),
        );
        for (const r of reports) {
          latencies = latencies.concat(r.latencies);
          dropped += r.dropped;
          last = Math.max(last, r.lastReceipt);
        }
        if (latencies.length >= expected) break;
        await sleep(250);
      }
      return { latencies, dropped, last };
    };

    const batches = options.batches ?? 100;
    const first = await publisher.publish(key, batches, options.intervalMs ?? 100);
    const paced = await collect(batches * subscribers);
    const burst = options.burst ?? 20;
    const burstStart = await publisher.publish(key, burst, 0);
    const burstResult = await collect(burst * subscribers);

    const latencies = paced.latencies.sort((a, b) => a - b);
    return {
      subscribers,
      clientProcesses: processes.length,
      batches,
      messages: latencies.length,
      dropped: paced.dropped + burstResult.dropped,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      fanoutPerSecond: latencies.length / ((paced.last - first) / 1000),
      burstFanoutPerSecond: burstResult.latencies.length / ((burstResult.last - burstStart) / 1000),
      rssPer1000SubscribersMiB: (((rssAfter - rssBefore) / subscribers) * 1000) / 1024 / 1024,
      heapPer1000SubscribersMiB: (((heapAfter - heapBefore) / subscribers) * 1000) / 1024 / 1024,
      loadAverage: loadavg()[0]!,
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}
