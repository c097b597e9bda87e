/**
 * The whole system on this machine (`npm run up`), as a user runs it on their own cluster: a
 * control plane with two real nodes (kubelet, containerd, the project's images imported), the
 * chart installed with `helm upgrade --install`, and beside the cluster what a user's cluster
 * reaches outside it: PostgreSQL, Temporal, simulated switches (three gNMI, one NETCONF), a media
 * server for AudioJob sources, the audio workers (README: why on the host) and Prometheus.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '@switchforge/platform/db';
import { kubectl, type KubernetesInfo } from '@switchforge/testkit/kubernetes';
import { exposeToRealNodes } from '@switchforge/testkit/nodes/real-nodes';
import { podReachableUrl } from '@switchforge/testkit/nodes/workloads';
import { OUTSIDE_ADDRESS } from '@switchforge/testkit/nodes/addresses';
import { binary, repoRoot } from '@switchforge/testkit/paths';
import { freePort, waitFor } from '@switchforge/testkit/ports';
import { isAlive, startDetached, stopProcess, tail } from '@switchforge/testkit/processes';
import { loadState, saveState, startStack, stopStack, type StackState } from '@switchforge/testkit/stack';
import { synthWav } from '../audio/synth-wav.js';
import { ensureVenvPython, readyVenvPython } from '../audio/venv-python.js';
import { ensureHelm } from '../chart/helm.js';
import { generateTestPki } from '@switchforge/simulators/certs';
import { audioVolumeManifests, prepareAudioVolume } from './audio-storage.js';
import { hostAudioWorkerCommand, hostAudioWorkerEnv } from './host-audio-worker.js';
import {
  demoAudioJob,
  LAB_GNMI_LOGIN,
  LAB_NAMESPACE,
  LAB_NETCONF_LOGIN,
  LAB_USER,
  labManifests,
} from './lab.js';
import { prometheusConfig } from './prometheus-config.js';
import { DATABASE_SECRET, FULLNAME, installRelease, releaseValues } from './release.js';

export const SYSTEM_NAMESPACE = 'switchforge-system';
export { LAB_NAMESPACE };
const GNMI_SWITCHES = 3;

/** The processes `npm run up` leaves running on the machine beside the cluster. */
export interface SystemProcesses {
  [name: string]: { pid: number; log: string; endpoint?: string };
}

const tsx = (file: string, ...args: string[]): [string, string[]] => [
  process.execPath,
  ['--import', 'tsx', join(repoRoot, file), ...args],
];

/** Starts a server that prints one JSON line once it listens, and returns that line. */
async function startListening<T extends { port: number }>(
  state: StackState,
  procs: SystemProcesses,
  name: string,
  [command, args]: [string, string[]],
): Promise<T> {
  const log = join(state.dir, `${name}.log`);
  rmSync(log, { force: true });
  const pid = startDetached(command, args, log);
  procs[name] = { pid, log };
  let info: T | undefined;
  await waitFor(
    `${name} to listen`,
    async () => {
      if (!isAlive(pid)) throw new Error(`${name} exited:\n${tail(log)}`);
      const line = readFileSync(log, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('{"listening"'));
      if (line) info = JSON.parse(line) as T;
      return info !== undefined;
    },
    30_000,
    100,
  );
  procs[name]!.endpoint = `127.0.0.1:${info!.port}`;
  return info!;
}

async function must(k: KubernetesInfo, args: string[], input?: string): Promise<string> {
  const r = await kubectl(k, args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const applyAll = (k: KubernetesInfo, docs: object[]) =>
  must(k, ['apply', '-f', '-'], docs.map((d) => JSON.stringify(d)).join('\n'));

async function installCrds(k: KubernetesInfo): Promise<void> {
  const dir = join(repoRoot, 'crds');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  await must(k, [
    'apply',
    '--server-side',
    '--force-conflicts',
    ...files.flatMap((f) => ['-f', join(dir, f)]),
  ]);
  await must(k, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...files.flatMap((f) => ['-f', join(dir, f)]),
  ]);
}

export async function startSystem(
  stateDir: string,
): Promise<{ state: StackState; procs: SystemProcesses; lines: string[] }> {
  const existing = loadState(stateDir);
  // No kwok nodes: the real nodes take every pod, untainted, as a user's cluster's nodes do.
  const state = await startStack(
    existing ?? { dir: stateDir },
    ['postgres', 'kubernetes', 'temporal', 'nodes'],
    {
      kwokNodes: 0,
    },
  );
  const k = state.kubernetes!;
  const pgInfo = state.postgres!;
  const temporal = state.temporal!;
  const nodes = state.realNodes!;
  await migrate({ url: pgInfo.dsn });
  await installCrds(k);
  for (const ns of [SYSTEM_NAMESPACE, LAB_NAMESPACE]) {
    await applyAll(k, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }]);
  }

  const procsFile = join(state.dir, 'system.json');
  const previous: SystemProcesses = existsSync(procsFile)
    ? (JSON.parse(readFileSync(procsFile, 'utf8')) as SystemProcesses)
    : {};
  for (const p of Object.values(previous)) await stopProcess(p.pid, 5000);
  const procs: SystemProcesses = {};
  const save = () => writeFileSync(procsFile, JSON.stringify(procs, null, 2));
  try {
    // Simulated switches over TLS (gNMI) and SSH with a pinned host key (NETCONF), with logins.
    const pki = generateTestPki({ days: 30 });
    const gnmiPorts: number[] = [];
    for (let i = 1; i <= GNMI_SWITCHES; i++) {
      const { port } = await startListening(
        state,
        procs,
        `gnmi-leaf${i}`,
        tsx(
          'simulators/src/gnmi/main.ts',
          '--interfaces',
          '8',
          '--tls-cert',
          pki.server.certFile,
          '--tls-key',
          pki.server.keyFile,
          '--username',
          LAB_GNMI_LOGIN.username,
          '--password',
          LAB_GNMI_LOGIN.password,
        ),
      );
      gnmiPorts.push(port);
    }
    const caCert = pki.ca.cert.toString();
    // The simulators read their certificate at start; the lab keeps only the CA, in a Secret.
    rmSync(pki.dir, { recursive: true, force: true });
    const netconf = await startListening<{ port: number; hostKey: string }>(
      state,
      procs,
      'netconf-spine1',
      tsx(
        'simulators/src/netconf/main.ts',
        '--interfaces',
        '6',
        '--username',
        LAB_NETCONF_LOGIN.username,
        '--password',
        LAB_NETCONF_LOGIN.password,
      ),
    );
    for (const port of [...gnmiPorts, netconf.port, Number(temporal.address.split(':').at(-1))]) {
      await exposeToRealNodes(nodes, port);
    }
    save();

    // The database Secret the chart reads (a user's managed PostgreSQL, reached from the pods).
    await applyAll(k, [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: DATABASE_SECRET, namespace: SYSTEM_NAMESPACE },
        stringData: { url: await podReachableUrl(nodes, pgInfo.dsn) },
      },
    ]);
    const audioRoot = join(state.dir, 'audio');
    mkdirSync(audioRoot, { recursive: true });
    const python = readyVenvPython() ?? (await ensureVenvPython(60 * 60_000));
    const { models } = await prepareAudioVolume(audioRoot, python);
    await applyAll(k, audioVolumeManifests(audioRoot, SYSTEM_NAMESPACE));

    const queuePrefix = '';
    const temporalForPods = {
      address: `${OUTSIDE_ADDRESS}:${temporal.address.split(':').at(-1)}`,
      namespace: temporal.namespace,
    };
    await ensureHelm();
    await installRelease(
      k.kubeconfig,
      SYSTEM_NAMESPACE,
      releaseValues({ temporal: temporalForPods, queuePrefix }),
      state.dir,
    ).catch(async (e: Error) => {
      const pods = await kubectl(k, ['get', 'pods', '-n', SYSTEM_NAMESPACE, '-o', 'wide']);
      throw new Error(`${e.message}\n${pods.stdout}`);
    });

    await applyAll(
      k,
      labManifests({ gnmiPorts, caCert, netconfPort: netconf.port, netconfHostKey: netconf.hostKey }),
    );

    const audioMetrics = await freePort();
    const [awCommand, awArgs] = hostAudioWorkerCommand();
    const awLog = join(state.dir, 'audio-worker.log');
    procs['audio-worker'] = {
      pid: startDetached(awCommand, awArgs, awLog, {
        ...process.env,
        ...hostAudioWorkerEnv({
          databaseUrl: pgInfo.dsn,
          temporal: { address: temporal.address, namespace: temporal.namespace },
          queuePrefix,
          storageRoot: audioRoot,
          modelRepo: models,
          python,
          metricsPort: audioMetrics,
        }),
      }),
      log: awLog,
      endpoint: `http://127.0.0.1:${audioMetrics}/metrics`,
    };

    const mediaDir = join(state.dir, 'media');
    mkdirSync(mediaDir, { recursive: true });
    writeFileSync(join(mediaDir, 'demo.wav'), synthWav(20));
    const media = await startListening(
      state,
      procs,
      'media',
      tsx('e2e/src/local/media-server.ts', '--dir', mediaDir),
    );
    procs.media!.endpoint = `http://127.0.0.1:${media.port}/  (serves ${mediaDir})`;
    // Created once: a job's source is immutable, and a second `npm run up` serves on a new port.
    const demo = await kubectl(
      k,
      ['create', '-f', '-'],
      JSON.stringify(demoAudioJob(`http://127.0.0.1:${media.port}/demo.wav`)),
    );
    if (demo.code !== 0 && !/AlreadyExists/.test(demo.stderr))
      throw new Error(`the demo AudioJob: ${demo.stderr}`);

    // GraphQL on this machine: kubectl port-forward to the API Service, restarted if it drops.
    const apiPort = await freePort();
    const forward = [
      `'${binary('kubectl')}' --kubeconfig '${k.kubeconfig}' port-forward -n ${SYSTEM_NAMESPACE}`,
      `--address 127.0.0.1 service/${FULLNAME}-api ${apiPort}:80`,
    ].join(' ');
    const pfLog = join(state.dir, 'api-port-forward.log');
    procs['api'] = {
      pid: startDetached('bash', ['-c', `while :; do ${forward}; sleep 1; done`], pfLog),
      log: pfLog,
      endpoint: `http://127.0.0.1:${apiPort}/graphql`,
    };

    const promPort = await freePort();
    const promDir = join(state.dir, 'prometheus');
    mkdirSync(promDir, { recursive: true });
    const podTargets = join(promDir, 'pod-targets.json');
    writeFileSync(podTargets, '[]');
    const ptLog = join(state.dir, 'pod-targets.log');
    procs['pod-targets'] = {
      pid: startDetached(
        ...tsx(
          'e2e/src/local/pod-targets.ts',
          '--kubeconfig',
          k.kubeconfig,
          '--api-port',
          String(k.apiPort),
          '--out',
          podTargets,
        ),
        ptLog,
      ),
      log: ptLog,
    };
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      prometheusConfig(k, [`127.0.0.1:${audioMetrics}`], podTargets),
    );
    const promLog = join(state.dir, 'prometheus.log');
    procs.prometheus = {
      pid: startDetached(
        '/usr/bin/prometheus',
        [
          `--config.file=${join(promDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(promDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--storage.tsdb.retention.time=1d',
        ],
        promLog,
      ),
      log: promLog,
      endpoint: `http://127.0.0.1:${promPort}`,
    };
    save();
    saveState(state);
  } catch (e) {
    save();
    throw e;
  }

  await waitFor(
    'the lab Devices to connect',
    async () => {
      const r = await kubectl(k, [
        'get',
        'devices',
        '-n',
        LAB_NAMESPACE,
        '-o',
        'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Connected")].status}{"\\n"}{end}',
      ]);
      return r.stdout.split('\n').filter((s) => s === 'True').length === GNMI_SWITCHES + 1;
    },
    180_000,
    1000,
  ).catch(() => undefined /* reported below, by kubectl get devices */);
  const devices = await kubectl(k, ['get', 'devices', '-n', LAB_NAMESPACE]);

  const lines = [
    `kubectl      export KUBECONFIG=${k.kubeconfig}; kubectl get devices,audiojobs -A`,
    `helm         ${binary('helm')} --kubeconfig ${k.kubeconfig} -n ${SYSTEM_NAMESPACE} status switchforge`,
    `token        kubectl create token ${LAB_USER} -n ${LAB_NAMESPACE}   (may read the lab's Devices and AudioJobs)`,
    `postgres     ${pgInfo.dsn}`,
    `temporal     ${temporal.address}`,
    ...Object.entries(procs).map(([name, p]) => `${name.padEnd(12)} ${p.endpoint ?? ''}  (log ${p.log})`),
    `node logs    ${nodes.logDir}`,
    '',
    ...devices.stdout.trimEnd().split('\n'),
  ];
  return { state, procs, lines };
}

export async function stopSystem(stateDir: string): Promise<void> {
  const procsFile = join(stateDir, 'system.json');
  if (existsSync(procsFile)) {
    const procs = JSON.parse(readFileSync(procsFile, 'utf8')) as SystemProcesses;
    for (const p of Object.values(procs)) await stopProcess(p.pid, 10_000);
  }
  const state = loadState(stateDir);
  if (state) await stopStack(state, { removeDir: true });
}
