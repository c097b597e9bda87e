import { isTerminalPhase, type AudioJob, type Device } from '@switchforge/platform/crd';
import { keyOf } from '@switchforge/platform/kube';
import { NotFoundError } from '@switchforge/platform/errors';
import { BoundedQueue } from '../live/bounded-queue.js';
import type { LiveEvent, LiveMessage } from '../live/live-hub.js';
import type { ApiContext } from './context.js';
import { watching } from './presence-resolvers.js';
import { requireDevice } from './query-resolvers.js';
import { audioJobView, deviceView, wireSampleView, type AudioJobView, type DeviceView } from './views.js';

interface DeviceUpdatesArgs {
  namespace: string;
  name: string;
  pathPrefix?: string | null;
  sinceSequence?: number | null;
}

/**
 * The sequence a gap marker carries: the highest one a client may resume from without losing the
 * batch that follows the marker (that batch has sequence `resumeFrom`), and never below what the
 * client already had (`since`; a failed catch-up has no `resumeFrom`).
 */
export function gapMarkerSequence(gap: { since: number; resumeFrom: number }): number {
  return Math.max(gap.since, gap.resumeFrom - 1);
}

export function deviceUpdate(namespace: string, name: string, e: LiveEvent, dropped: number) {
  if (e.kind === 'gap') {
    return {
      namespace,
      name,
      sequence: gapMarkerSequence(e),
      committedAt: new Date(),
      values: [],
      dropped,
      gap: { afterSequence: e.since, resumedAt: e.resumeFrom, reason: e.reason },
    };
  }
  return {
    namespace,
    name,
    sequence: e.seq,
    committedAt: new Date(e.committedAt),
    values: e.samples.map(wireSampleView),
    dropped,
    gap: null,
  };
}

async function* mapIterator<T, U>(
  source: AsyncIterableIterator<T>,
  map: (t: T) => U | undefined,
): AsyncGenerator<U> {
  try {
    for await (const item of source) {
      const out = map(item);
      if (out !== undefined) yield out;
    }
  } finally {
    await source.return?.();
  }
}

/** Informer events for the status subscriptions, through a bounded queue per subscriber. */
function cacheEvents<T>(on: (l: (e: { kind: string; object: T }) => void) => () => void, capacity = 256) {
  let off: () => void = () => undefined;
  const queue = new BoundedQueue<{ kind: string; object: T }>(capacity, undefined, () => off());
  off = on((e) => queue.push(e));
  return queue;
}

export const subscriptionResolvers = {
  Subscription: {
    deviceUpdates: {
      async subscribe(_: unknown, args: DeviceUpdatesArgs, ctx: ApiContext) {
        await ctx.access.require({ verb: 'watch', resource: 'devices', namespace: args.namespace });
        await requireDevice(ctx, args.namespace, args.name);
        const options = {
          ...(args.sinceSequence == null ? {} : { since: args.sinceSequence }),
          ...(args.pathPrefix ? { pathPrefix: args.pathPrefix } : {}),
        };
        const view = (e: LiveEvent, dropped: number) => ({
          deviceUpdates: deviceUpdate(args.namespace, args.name, e, dropped),
        });
        // Over graphql-ws, updates are rendered once per distinct operation and written to the
        // socket directly; other transports (SSE) execute per subscriber as usual.
        const source = ctx.liveDelivery
          ? ctx.liveDelivery.attach(ctx.services.hub, args.namespace, args.name, options, view)
          : mapIterator(ctx.services.hub.subscribe(args.namespace, args.name, options), (m: LiveMessage) =>
              view(m.event, m.dropped),
            );
        return watching(ctx, 'Device', args.namespace, args.name, source);
      },
    },

    deviceStatus: {
      async subscribe(_: unknown, args: { namespace?: string | null }, ctx: ApiContext) {
        if (args.namespace)
          await ctx.access.require({ verb: 'watch', resource: 'devices', namespace: args.namespace });
        const last = new Map<string, string>();
        for (const d of ctx.services.cache.devices.list(args.namespace ?? undefined))
          last.set(keyOf(d), JSON.stringify(d.status ?? {}));
        const queue = cacheEvents<Device>((l) => ctx.services.cache.onDevice(l));
        const filtered = async function* (): AsyncGenerator<{ deviceStatus: DeviceView }> {
          for await (const { kind, object } of mapIterator(queue, (e) => e)) {
            const ns = object.metadata.namespace ?? '';
            if (args.namespace && ns !== args.namespace) continue;
            const key = keyOf(object);
            if (kind === 'delete') {
              last.delete(key);
              continue;
            }
            const status = JSON.stringify(object.status ?? {});
            if (last.get(key) === status) continue;
            last.set(key, status);
            // Checked per event (cached briefly), so an RBAC change applies to open subscriptions.
            if (!(await ctx.access.can({ verb: 'watch', resource: 'devices', namespace: ns }))) continue;
            yield { deviceStatus: deviceView(object) };
          }
        };
        return filtered();
      },
    },

    audioJobProgress: {
      async subscribe(_: unknown, args: { namespace: string; name: string }, ctx: ApiContext) {
        await ctx.access.require({ verb: 'watch', resource: 'audiojobs', namespace: args.namespace });
        const current = ctx.services.cache.audioJobs.get(args.name, args.namespace);
        if (!current) throw new NotFoundError(`audiojob ${args.namespace}/${args.name} not found`);
        const queue = cacheEvents<AudioJob>((l) => ctx.services.cache.onAudioJob(l));
        const progress = async function* (): AsyncGenerator<{ audioJobProgress: AudioJobView }> {
          try {
            yield { audioJobProgress: audioJobView(current) };
            if (isTerminalPhase(current.status?.phase)) return;
            for await (const { kind, object } of mapIterator(queue, (e) => e)) {
              if (object.metadata.namespace !== args.namespace || object.metadata.name !== args.name)
                continue;
              if (kind === 'delete') return;
              yield { audioJobProgress: audioJobView(object) };
              if (isTerminalPhase(object.status?.phase)) return;
            }
          } finally {
            queue.close();
          }
        };
        return watching(ctx, 'AudioJob', args.namespace, args.name, progress());
      },
    },
  },
};
