/**
 * Runs one DeviceDiscovery when it is due: expands its targets, probes them with a bound on
 * concurrency and a timeout per probe, server-side applies a Device for each that answered,
 * marks the Devices it created and no longer finds, and writes status, an Event and metrics.
 */
import { type CoreV1Api, type CustomObjectsApi, type KubernetesObjectApi } from '@kubernetes/client-node';
import { metrics } from '@opentelemetry/api';
import {
  ANNOTATION_MISSING_SINCE,
  DEFAULT_DISCOVERY_CONCURRENCY,
  DEFAULT_DISCOVERY_TIMEOUT,
  DEFAULT_PORTS,
  DEVICE_DISCOVERY,
  parseDuration,
  type Device,
  type DeviceDiscovery,
} from '@switchforge/platform/crd';
import { MANAGER } from '@switchforge/platform/device-worker';
import { splitKey, type Lister } from '@switchforge/platform/kube';
import { log } from '@switchforge/platform/log';
import type { ReconcileResult, Reconciler } from '../machinery/controller.js';
import { EventRecorder } from '../machinery/event-recorder.js';
import { SourceWrites } from '../device-source/owned-devices.js';
import { retryAfterFailureMs } from '../device-source/schedule.js';
import { desiredDevice, ownedBy } from './discovered-device.js';
import { failedStatus, nextRunInMs, runStatus, type RunResult } from './discovery-status.js';
import { probeGnmi, type GnmiProbeOptions } from './gnmi-probe.js';
import { probeNetconf, type NetconfProbeOptions } from './netconf-probe.js';
import { verdictOf, type ProbeOutcome } from './probe-result.js';
import { DiscoverySecretError, pinnedKeysFor, probeSettings, type SecretReader } from './probe-settings.js';
import { TargetError, expandTargets, type Target } from './targets.js';

/** Addresses one run may probe at most, all entries together (each CIDR block is at most a /24). */
export const MAX_TARGETS = 1024;

export interface DiscoveryCaches {
  discoveries: Lister<DeviceDiscovery>;
  devices: Lister<Device>;
}

export interface DiscoveryClients {
  objects: Pick<KubernetesObjectApi, 'patch'>;
  customObjects: Pick<CustomObjectsApi, 'patchNamespacedCustomObjectStatus'>;
  core: Pick<CoreV1Api, 'createNamespacedEvent'>;
  readSecret: SecretReader;
}

export interface Probes {
  gnmi(options: GnmiProbeOptions): Promise<ProbeOutcome>;
  netconf(options: NetconfProbeOptions): Promise<ProbeOutcome>;
}

const meter = metrics.getMeter('switchforge-operator');
const targetOutcomes = meter.createCounter('switchforge.operator.discovery.targets', {
  description: 'Targets probed by DeviceDiscovery runs, by outcome (found, unreachable, refused)',
});
const runs = meter.createCounter('switchforge.operator.discovery.runs', {
  description: 'DeviceDiscovery runs, by result (succeeded, failed: bad targets or Secrets)',
});

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of the results. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export class DiscoveryReconciler implements Reconciler {
  private readonly events: EventRecorder;
  private readonly writes: SourceWrites;

  constructor(
    private readonly caches: DiscoveryCaches,
    private readonly clients: DiscoveryClients,
    private readonly probes: Probes = { gnmi: probeGnmi, netconf: probeNetconf },
    private readonly now: () => Date = () => new Date(),
  ) {
    this.events = new EventRecorder(clients.core, MANAGER, now);
    this.writes = new SourceWrites(clients, DEVICE_DISCOVERY.plural, ANNOTATION_MISSING_SINCE);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const discovery = this.caches.discoveries.get(name, namespace);
    if (!discovery || discovery.metadata.deletionTimestamp) return;
    const wait = nextRunInMs(discovery, this.now());
    if (wait > 0) return { requeueAfterMs: wait };

    const every = parseDuration(discovery.spec.schedule.every);
    let targets: Target[];
    let settings: Awaited<ReturnType<typeof probeSettings>>;
    try {
      targets = expandTargets(discovery.spec.targets);
      if (targets.length > MAX_TARGETS)
        throw new TargetError(`the targets expand to ${targets.length} addresses, more than ${MAX_TARGETS}`);
      settings = await probeSettings(discovery.spec, namespace, this.clients.readSecret);
    } catch (e) {
      if (!(e instanceof TargetError) && !(e instanceof DiscoverySecretError)) throw e;
      const reason = e instanceof TargetError ? 'InvalidTargets' : e.reason;
      await this.writes.writeStatus(discovery, failedStatus(discovery, reason, e.message, this.now()));
      runs.add(1, { result: 'failed', reason });
      await this.events.record(discovery, { reason, message: e.message, warning: true });
      return { requeueAfterMs: retryAfterFailureMs(discovery.spec.schedule.every) };
    }

    const timeoutMs = parseDuration(discovery.spec.timeout ?? DEFAULT_DISCOVERY_TIMEOUT);
    const concurrency = discovery.spec.concurrency ?? DEFAULT_DISCOVERY_CONCURRENCY;
    const started = performance.now();
    const verdicts = await mapBounded(targets, concurrency, async (target) => {
      const outcomes: ProbeOutcome[] = [];
      for (const probe of discovery.spec.probes) {
        const port = probe.port ?? DEFAULT_PORTS[probe.protocol];
        const common = { address: target.address, port, login: settings.login, timeoutMs };
        const outcome =
          probe.protocol === 'gnmi'
            ? await this.probes.gnmi({ ...common, tls: settings.tls })
            : await this.probes.netconf({
                ...common,
                hostKeys:
                  settings.hostKeys === 'disabled'
                    ? 'disabled'
                    : pinnedKeysFor(settings.hostKeys ?? '', target.address, port),
              });
        outcomes.push(outcome);
        if (outcome.kind === 'answered') break;
      }
      return { address: target.address, verdict: verdictOf(outcomes) };
    });

    const run: RunResult = { verdicts: [], missing: 0 };
    const foundNames = new Set<string>();
    for (const { address, verdict } of verdicts) {
      if (verdict.kind !== 'found') {
        run.verdicts.push({ address, verdict });
        continue;
      }
      const desired = desiredDevice(discovery, address, verdict.answer);
      const deviceName = desired.metadata.name!;
      const existing = this.caches.devices.get(deviceName, namespace);
      if (existing && !ownedBy(existing, discovery)) {
        const conflict = `Device ${namespace}/${deviceName} exists and is not owned by this discovery; left alone`;
        run.verdicts.push({ address, verdict, device: deviceName, conflict });
        continue;
      }
      await this.writes.applyDevice(desired);
      foundNames.add(deviceName);
      run.verdicts.push({ address, verdict, device: deviceName });
    }

    const owned = this.caches.devices.list(namespace).filter((d) => ownedBy(d, discovery));
    run.missing = await this.writes.markMissing(namespace, owned, foundNames, this.now());

    const status = runStatus(discovery, run, this.now());
    await this.writes.writeStatus(discovery, status);
    for (const outcome of ['found', 'unreachable', 'refused'] as const) {
      const n = status[`${outcome}Count`] ?? 0;
      if (n > 0) targetOutcomes.add(n, { outcome, namespace });
    }
    runs.add(1, { result: 'succeeded' });
    const message = `${status.conditions?.find((c) => c.type === 'Ready')?.message ?? ''} (${targets.length} targets in ${Math.round(performance.now() - started)} ms)`;
    await this.events.record(discovery, { reason: 'DiscoveryRun', message, warning: false });
    log.info('discovery run', { discovery: key, message });
    return { requeueAfterMs: every };
  }
}
