import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { SupervisedInformer } from '@switchforge/platform/kube';
import { APP_ROOT } from '@switchforge/platform/image-layout';
import { localCommand } from '../infra/local-command.js';
import { resolveEnv } from './pod-env.js';

export interface PodRunnerOptions {
  kubeConfig: KubeConfig;
  /** The apiserver address and CA that a pod's own kubeconfig should use. */
  server: string;
  caFile: string;
  /** Only pods matching this label selector are run (others are simulated by kwok alone). */
  labelSelector: string;
  /** Run only pods of this namespace (tests sharing a cluster each run their own). */
  namespace?: string;
  /** Container paths that map to host paths, e.g. `/app` → the repository. */
  pathMap: Record<string, string>;
  stateDir: string;
  /** Variables of this process passed through to containers (PATH and friends). */
  passEnv?: string[];
  /**
   * Variables every container gets under the pod's own, as an image's `ENV` lines would set them
   * (e.g. where the image keeps its models).
   */
  imageEnv?: Record<string, string>;
}

interface RunningContainer {
  pod: V1Pod;
  container: V1Container;
  child?: ChildProcess;
  restarts: number;
  stopping: boolean;
  exited?: Promise<void>;
}

/** The nodes this runner plays the kubelet for (e2e/src/infra/kubernetes.ts names them). */
const KWOK_NODE_PREFIX = 'kwok-';

/**
 * Plays the kubelet for kwok nodes: every pod of ours that the scheduler bound to a node is run
 * as a local process with the container's command, args, env (Downward API and Secrets
 * resolved) and Secret volumes written under a per-pod root (SWITCHFORGE_MOUNT_ROOT), with a
 * kubeconfig holding a bound service-account token. Exited containers restart (restartPolicy
 * Always, with a short backoff); a deleted pod's processes get SIGTERM then SIGKILL.
 */
export class PodRunner {
  private readonly informer: SupervisedInformer<V1Pod>;
  private readonly core: CoreV1Api;
  private readonly running = new Map<string, RunningContainer>();
  private readonly lostNodes = new Set<string>();
  private stopped = false;

  constructor(private readonly options: PodRunnerOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.informer = new SupervisedInformer<V1Pod>(options.kubeConfig, {
      name: 'pod-runner',
      path: options.namespace ? `/api/v1/namespaces/${options.namespace}/pods` : '/api/v1/pods',
      labelSelector: options.labelSelector,
      list: () =>
        options.namespace
          ? this.core.listNamespacedPod({
              namespace: options.namespace,
              labelSelector: options.labelSelector,
            })
          : this.core.listPodForAllNamespaces({ labelSelector: options.labelSelector }),
    });
    this.informer.on((pod, kind) => void this.sync(pod, kind));
  }

  async start(): Promise<void> {
    mkdirSync(join(this.options.stateDir, 'logs'), { recursive: true });
    await this.informer.start();
  }

  /** Pods (namespace/name) with a live process. */
  get pods(): string[] {
    return [...new Set([...this.running.values()].filter((r) => r.child).map((r) => podKey(r.pod)))];
  }

  /** How often each running pod's containers exited and were started again (kubelet's restartCount). */
  restarts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.running.values())
      counts.set(podKey(r.pod), (counts.get(podKey(r.pod)) ?? 0) + r.restarts);
    return counts;
  }

  logFile(namespace: string, pod: string, container: string): string {
    return join(this.options.stateDir, 'logs', `${namespace}_${pod}_${container}.log`);
  }

  /**
   * Kills a pod's processes with SIGKILL, as a crash would: every process of the container,
   * children in their own process groups included (a container's PID namespace dies whole).
   * They restart like containers do.
   */
  crash(namespace: string, pod: string): number {
    let killed = 0;
    for (const r of this.running.values()) {
      if (r.pod.metadata?.namespace === namespace && r.pod.metadata?.name === pod && r.child?.pid) {
        killTree(r.child.pid, 'SIGKILL');
        killed++;
      }
    }
    return killed;
  }

  /** The main process id of each live container of a pod. */
  pids(namespace: string, pod: string): number[] {
    return [...this.running.values()]
      .filter((r) => r.pod.metadata?.namespace === namespace && r.pod.metadata?.name === pod && r.child?.pid)
      .map((r) => r.child!.pid!);
  }

  /** The pod (namespace/name) whose container runs process `pid`, itself or as a descendant. */
  podOfProcess(pid: number): string | undefined {
    const mains = new Map(
      [...this.running.values()].flatMap((r) =>
        r.child?.pid ? [[r.child.pid, podKey(r.pod)] as const] : [],
      ),
    );
    for (let p: number | undefined = pid; p && p > 1; p = parentOf(p)) {
      const pod = mains.get(p);
      if (pod) return pod;
    }
    return undefined;
  }

  /** Simulates losing a node: its processes die and nothing runs on it any more. */
  loseNode(node: string): void {
    this.lostNodes.add(node);
    for (const r of this.running.values()) {
      if (r.pod.spec?.nodeName === node) {
        r.stopping = true;
        if (r.child?.pid) killTree(r.child.pid, 'SIGKILL');
      }
    }
  }

  private async sync(pod: V1Pod, kind: 'add' | 'update' | 'delete'): Promise<void> {
    const node = pod.spec?.nodeName;
    const gone = kind === 'delete' || !!pod.metadata?.deletionTimestamp;
    for (const container of pod.spec?.containers ?? []) {
      const key = `${podKey(pod)}/${container.name}`;
      const existing = this.running.get(key);
      if (gone || this.stopped) {
        if (existing) await this.stopContainer(key, existing, pod.spec?.terminationGracePeriodSeconds ?? 30);
        continue;
      }
      // A kubelet knows the pod's IP before it starts containers: wait for kwok to assign it.
      // Pods on the real nodes (testkit/src/nodes) have a kubelet of their own.
      if (
        !node ||
        !node.startsWith(KWOK_NODE_PREFIX) ||
        !pod.status?.podIP ||
        this.lostNodes.has(node) ||
        existing
      )
        continue;
      const entry: RunningContainer = { pod, container, restarts: 0, stopping: false };
      this.running.set(key, entry);
      void this.supervise(key, entry);
    }
  }

  private async supervise(key: string, entry: RunningContainer): Promise<void> {
    while (!entry.stopping && !this.stopped) {
      try {
        const child = await this.launch(entry);
        entry.child = child;
        entry.exited = new Promise((res) => child.once('exit', () => res()));
        await entry.exited;
        entry.child = undefined;
      } catch (e) {
        writeFileSync(
          this.logFile(entry.pod.metadata!.namespace!, entry.pod.metadata!.name!, entry.container.name),
          `pod-runner: ${String(e)}\n`,
          { flag: 'a' },
        );
      }
      if (entry.stopping || this.stopped) break;
      entry.restarts++;
      // kubelet's CrashLoopBackOff, compressed: restart at once, then back off up to 10 s.
      await sleep(Math.min(10_000, entry.restarts <= 1 ? 200 : 500 * 2 ** (entry.restarts - 2)));
    }
    this.running.delete(key);
  }

  private async launch(entry: RunningContainer): Promise<ChildProcess> {
    const { pod, container } = entry;
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const root = join(this.options.stateDir, 'pods', namespace, name);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const secretCache = new Map<string, Record<string, string>>();
    const secret = async (secretName: string): Promise<Record<string, string> | undefined> => {
      if (!secretCache.has(secretName)) {
        try {
          const s = await this.core.readNamespacedSecret({ name: secretName, namespace });
          secretCache.set(
            secretName,
            Object.fromEntries(
              Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
            ),
          );
        } catch {
          return undefined;
        }
      }
      return secretCache.get(secretName);
    };
    const env = await resolveEnv(pod, container, async (n, k) => (await secret(n))?.[k]);
    for (const mount of container.volumeMounts ?? []) {
      const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
      if (!volume?.secret?.secretName) continue;
      const data = await secret(volume.secret.secretName);
      if (!data && !volume.secret.optional)
        throw new Error(`secret ${volume.secret.secretName} for volume ${mount.name} not found`);
      const dir = join(root, mount.mountPath);
      mkdirSync(dir, { recursive: true });
      for (const [file, content] of Object.entries(data ?? {}))
        writeFileSync(join(dir, file), content, { mode: 0o600 });
    }
    const kubeconfig = await this.podKubeconfig(pod, root);
    const cwd = this.mapPath(container.workingDir ?? '/');
    // The image's compiled entry points run here as their sources (the repository is not an image).
    const command = localCommand(
      [...(container.command ?? []), ...(container.args ?? [])],
      this.mapPath(APP_ROOT),
    ).map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m));
    if (command.length === 0) throw new Error(`container ${container.name} has no command`);
    const passed = Object.fromEntries(
      (this.options.passEnv ?? ['PATH', 'HOME', 'SWITCHFORGE_CACHE', 'LANG']).flatMap((k) =>
        process.env[k] ? [[k, process.env[k]!]] : [],
      ),
    );
    const log = openSync(this.logFile(namespace, name, container.name), 'a');
    try {
      return spawn(command[0]!, command.slice(1), {
        cwd,
        env: {
          ...passed,
          ...this.options.imageEnv,
          ...env,
          KUBECONFIG: kubeconfig,
          SWITCHFORGE_MOUNT_ROOT: root,
        },
        stdio: ['ignore', log, log],
        detached: true,
      });
    } finally {
      closeSync(log);
    }
  }

  /** A kubeconfig with a token bound to the pod, so the process has its service account's rights only. */
  private async podKubeconfig(pod: V1Pod, root: string): Promise<string> {
    const sa = pod.spec?.serviceAccountName ?? 'default';
    const request = await this.core.createNamespacedServiceAccountToken({
      name: sa,
      namespace: pod.metadata!.namespace!,
      body: {
        spec: {
          audiences: [],
          expirationSeconds: 24 * 3600,
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.metadata!.name!,
            uid: pod.metadata!.uid!,
          },
        },
      },
    });
    const token = request.status?.token ?? '';
    const file = join(root, 'kubeconfig');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'local',
            cluster: {
              server: this.options.server,
              'certificate-authority-data': readFileSync(this.options.caFile).toString('base64'),
            },
          },
        ],
        users: [{ name: sa, user: { token } }],
        contexts: [
          { name: 'pod', context: { cluster: 'local', user: sa, namespace: pod.metadata!.namespace! } },
        ],
        'current-context': 'pod',
      }),
      { mode: 0o600 },
    );
    return file;
  }

  private mapPath(path: string): string {
    for (const [from, to] of Object.entries(this.options.pathMap)) {
      if (path === from || path.startsWith(`${from}/`)) return to + path.slice(from.length);
    }
    return path;
  }

  private async stopContainer(key: string, entry: RunningContainer, graceSeconds: number): Promise<void> {
    entry.stopping = true;
    const child = entry.child;
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    // What the main process leaves behind (children in groups of their own) dies with the
    // container, as in a PID namespace.
    const descendants = descendantsOf(child.pid);
    const exited = await Promise.race([
      entry.exited?.then(() => true),
      sleep(graceSeconds * 1000).then(() => false),
    ]);
    if (!exited) killTree(child.pid, 'SIGKILL');
    for (const pid of descendants) signal(pid, 'SIGKILL');
    this.running.delete(key);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
    await Promise.all([...this.running.entries()].map(([k, r]) => this.stopContainer(k, r, 5)));
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** The parent of a process, from /proc (Linux); undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Every live descendant of a process, found through /proc. */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      found.push(c);
      queue.push(c);
    }
  }
  return found;
}

/** Kills a process, its group and every descendant, as the end of a container's PID namespace does. */
function killTree(pid: number, sig: NodeJS.Signals): void {
  const descendants = descendantsOf(pid);
  try {
    process.kill(-pid, sig);
  } catch {
    signal(pid, sig);
  }
  for (const d of descendants) signal(d, sig);
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}
