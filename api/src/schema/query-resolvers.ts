import type { AudioJob, AudioJobPhase, Device } from '@switchforge/platform/crd';
import { keyOf } from '@switchforge/platform/kube';
import { InputError, NotFoundError } from '@switchforge/platform/errors';
import { matchesLabels, parseLabelSelector } from '../data/label-selector.js';
import type { ApiContext } from './context.js';
import { checkFirst, decodeCursor, encodeCursor, paginate } from './pagination.js';
import { audioJobView, deviceView, metricValueView, type DeviceView } from './views.js';

interface DevicesArgs {
  namespace?: string | null;
  labelSelector?: string | null;
  condition?: { type: string; status: string } | null;
  phase?: string | null;
  first: number;
  after?: string | null;
}

interface SeriesInput {
  namespace: string;
  device: string;
  path: string;
  labels?: unknown;
  from: Date;
  to: Date;
  points?: number | null;
  bucket?: string | null;
}

/** Namespaces where the caller may `verb` devices, among `namespace` (when given) or all known. */
async function visible(
  ctx: ApiContext,
  resource: 'devices' | 'audiojobs',
  namespace: string | null | undefined,
  all: Iterable<string>,
) {
  if (namespace) {
    await ctx.access.require({ verb: 'list', resource, namespace });
    return new Set([namespace]);
  }
  return ctx.access.visibleNamespaces('list', resource, all);
}

export async function requireDevice(
  ctx: ApiContext,
  namespace: string,
  name: string,
  verb: 'get' | 'watch' = 'get',
): Promise<Device> {
  await ctx.access.require({ verb, resource: 'devices', namespace });
  const d = ctx.services.cache.devices.get(name, namespace);
  if (!d) throw new NotFoundError(`device ${namespace}/${name} not found`);
  return d;
}

function labelsArg(labels: unknown): Record<string, string> | undefined {
  if (labels === undefined || labels === null) return undefined;
  if (
    typeof labels !== 'object' ||
    Array.isArray(labels) ||
    !Object.values(labels).every((v) => typeof v === 'string')
  ) {
    throw new InputError('labels must be a JSON object of strings');
  }
  return labels as Record<string, string>;
}

export const queryResolvers = {
  Query: {
    async devices(_: unknown, args: DevicesArgs, ctx: ApiContext) {
      const selector = args.labelSelector ? parseLabelSelector(args.labelSelector) : [];
      const all = ctx.services.cache.devices.list();
      const namespaces = await visible(
        ctx,
        'devices',
        args.namespace,
        new Set(all.map((d) => d.metadata.namespace ?? '')),
      );
      const matching = all
        .filter((d) => namespaces.has(d.metadata.namespace ?? ''))
        .filter((d) => matchesLabels(selector, d.metadata.labels))
        .filter((d) => !args.phase || d.status?.phase === args.phase)
        .filter(
          (d) =>
            !args.condition ||
            d.status?.conditions?.some(
              (c) => c.type === args.condition!.type && c.status === args.condition!.status,
            ) === true,
        )
        .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
      const page = paginate(matching, keyOf, args.first, args.after);
      return {
        ...page,
        edges: page.edges.map((e) => ({ ...e, node: deviceView(e.node) })),
        nodes: page.nodes.map(deviceView),
      };
    },

    async device(_: unknown, args: { namespace: string; name: string }, ctx: ApiContext) {
      await ctx.access.require({ verb: 'get', resource: 'devices', namespace: args.namespace });
      const d = ctx.services.cache.devices.get(args.name, args.namespace);
      return d ? deviceView(d) : null;
    },

    async series(_: unknown, { input }: { input: SeriesInput }, ctx: ApiContext) {
      await requireDevice(ctx, input.namespace, input.device);
      const labels = labelsArg(input.labels);
      return ctx.services.metrics.series({
        device: `${input.namespace}/${input.device}`,
        path: input.path,
        from: input.from,
        to: input.to,
        ...(labels ? { labels } : {}),
        ...(input.points == null ? {} : { points: input.points }),
        ...(input.bucket == null ? {} : { bucket: input.bucket }),
      });
    },

    async configBackups(
      _: unknown,
      args: { namespace: string; device: string; first: number; after?: string | null },
      ctx: ApiContext,
    ) {
      await requireDevice(ctx, args.namespace, args.device);
      return backupsConnection(ctx, `${args.namespace}/${args.device}`, args.first, args.after);
    },

    async configDiff(
      _: unknown,
      args: { namespace: string; device: string; from: string; to: string; context: number },
      ctx: ApiContext,
    ) {
      await requireDevice(ctx, args.namespace, args.device);
      return ctx.services.backups.diff(`${args.namespace}/${args.device}`, args.from, args.to, args.context);
    },

    async audioJobs(
      _: unknown,
      args: { namespace?: string | null; phase?: AudioJobPhase | null; first: number; after?: string | null },
      ctx: ApiContext,
    ) {
      const all = ctx.services.cache.audioJobs.list();
      const namespaces = await visible(
        ctx,
        'audiojobs',
        args.namespace,
        new Set(all.map((j) => j.metadata.namespace ?? '')),
      );
      const matching = all
        .filter((j: AudioJob) => namespaces.has(j.metadata.namespace ?? ''))
        .filter((j) => !args.phase || j.status?.phase === args.phase)
        .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
      const page = paginate(matching, keyOf, args.first, args.after);
      return {
        ...page,
        edges: page.edges.map((e) => ({ ...e, node: audioJobView(e.node) })),
        nodes: page.nodes.map(audioJobView),
      };
    },

    async audioJob(_: unknown, args: { namespace: string; name: string }, ctx: ApiContext) {
      await ctx.access.require({ verb: 'get', resource: 'audiojobs', namespace: args.namespace });
      const j = ctx.services.cache.audioJobs.get(args.name, args.namespace);
      return j ? audioJobView(j) : null;
    },
  },

  Device: {
    async latestValues(d: DeviceView, args: { pathPrefix?: string | null; first: number }, ctx: ApiContext) {
      checkFirst(args.first);
      const rows = await ctx.services.metrics.latestValues(
        `${d.namespace}/${d.name}`,
        args.pathPrefix ?? undefined,
        args.first,
      );
      return rows.map(metricValueView);
    },
    configBackups(d: DeviceView, args: { first: number; after?: string | null }, ctx: ApiContext) {
      return backupsConnection(ctx, `${d.namespace}/${d.name}`, args.first, args.after);
    },
  },
};

async function backupsConnection(
  ctx: ApiContext,
  device: string,
  first: number,
  after: string | null | undefined,
) {
  checkFirst(first);
  const afterId = after ? decodeCursor(after) : undefined;
  const page = await ctx.services.backups.list(device, first, afterId);
  const edges = page.items.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    edges,
    nodes: page.items,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
  };
}
