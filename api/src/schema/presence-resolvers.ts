/**
 * Presence in GraphQL: `watchers` on Device and AudioJob (who watches it live, and since when)
 * and the `watchersChanged` subscription. Both only for a caller who may `get` the object: who
 * looks at a switch is itself information about it. Live subscriptions of one object register
 * their caller through `watching` (presence-store.ts keeps the rows across replicas).
 */
import { NotFoundError } from '@switchforge/platform/errors';
import type { WatchedKind, Watcher } from '../presence/watcher-set.js';
import type { ApiContext } from './context.js';

const RESOURCE = { Device: 'devices', AudioJob: 'audiojobs' } as const;

async function requireObject(
  ctx: ApiContext,
  kind: WatchedKind,
  namespace: string,
  name: string,
): Promise<void> {
  await ctx.access.require({ verb: 'get', resource: RESOURCE[kind], namespace });
  const cache = ctx.services.cache;
  const found = kind === 'Device' ? cache.devices.get(name, namespace) : cache.audioJobs.get(name, namespace);
  if (!found) throw new NotFoundError(`${kind.toLowerCase()} ${namespace}/${name} not found`);
}

async function watchersOf(
  ctx: ApiContext,
  kind: WatchedKind,
  parent: { namespace: string; name: string },
): Promise<Watcher[]> {
  await ctx.access.require({ verb: 'get', resource: RESOURCE[kind], namespace: parent.namespace });
  return (await ctx.services.presence?.watchers(kind, parent.namespace, parent.name)) ?? [];
}

/**
 * Wraps a subscription's iterator so that the caller counts as watching the object while it runs.
 * The iterator is handed back as it is otherwise (the graphql-ws live path writes to the socket
 * itself and yields nothing).
 */
export async function watching<T>(
  ctx: ApiContext,
  kind: WatchedKind,
  namespace: string,
  name: string,
  source: AsyncIterableIterator<T>,
): Promise<AsyncIterableIterator<T>> {
  const presence = ctx.services.presence;
  if (!presence) return source;
  const leave = await presence.join(kind, namespace, name, ctx.access.subject.username);
  const done = async <R>(result: R): Promise<R> => {
    await leave();
    return result;
  };
  const wrapped: AsyncIterableIterator<T> = {
    next: async (...args: [] | [unknown]) => {
      try {
        const r = await source.next(...args);
        return r.done ? done(r) : r;
      } catch (e) {
        await leave();
        throw e;
      }
    },
    return: async (value?: unknown) =>
      done(source.return ? await source.return(value) : ({ done: true, value } as IteratorResult<T>)),
    throw: async (e?: unknown) => {
      await leave();
      if (source.throw) return source.throw(e);
      throw e;
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped;
}

export const presenceResolvers = {
  Device: {
    watchers: (parent: { namespace: string; name: string }, _: unknown, ctx: ApiContext) =>
      watchersOf(ctx, 'Device', parent),
  },
  AudioJob: {
    watchers: (parent: { namespace: string; name: string }, _: unknown, ctx: ApiContext) =>
      watchersOf(ctx, 'AudioJob', parent),
  },
  Subscription: {
    watchersChanged: {
      async subscribe(
        _: unknown,
        args: { kind: WatchedKind; namespace: string; name: string },
        ctx: ApiContext,
      ) {
        await requireObject(ctx, args.kind, args.namespace, args.name);
        const presence = ctx.services.presence;
        if (!presence) throw new NotFoundError('presence is not available on this API');
        const stop = new AbortController();
        const changes = presence.changes(args.kind, args.namespace, args.name, stop.signal);
        // An iterator of our own, not a generator: a generator's return() would wait for the
        // poll it is suspended in; this one ends the poll at once when the client unsubscribes.
        const stream: AsyncIterableIterator<{ watchersChanged: unknown }> = {
          next: async () => {
            const r = await changes.next();
            if (r.done) return { done: true, value: undefined };
            // Checked per change (cached briefly), so a revoked right ends what the caller sees.
            await ctx.access.require({
              verb: 'get',
              resource: RESOURCE[args.kind],
              namespace: args.namespace,
            });
            return {
              done: false,
              value: {
                watchersChanged: { kind: args.kind, namespace: args.namespace, name: args.name, ...r.value },
              },
            };
          },
          return: async () => {
            stop.abort();
            return { done: true, value: undefined };
          },
          [Symbol.asyncIterator]() {
            return stream;
          },
        };
        return stream;
      },
    },
  },
};
