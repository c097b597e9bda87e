import type { AudioJobSpec } from '@switchforge/platform/crd';
import { InputError } from '@switchforge/platform/errors';
import type { ApiContext } from './context.js';
import { requireDevice } from './query-resolvers.js';
import { audioJobView } from './views.js';

interface CreateAudioJobInput {
  namespace: string;
  name: string;
  source: { url?: string | null; spotifyTrackId?: string | null; storagePath?: string | null };
  stages: unknown;
  priority?: number | null;
  outputPrefix?: string | null;
  timeouts?: unknown;
}

function jsonObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InputError(`${field} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** Drops GraphQL's nulls: the CRD schema, not the API, decides what a missing field means. */
function compact<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}

export const mutationResolvers = {
  Mutation: {
    async createAudioJob(_: unknown, { input }: { input: CreateAudioJobInput }, ctx: ApiContext) {
      await ctx.access.require({ verb: 'create', resource: 'audiojobs', namespace: input.namespace });
      // Shape only; the apiserver validates the content (schema, CEL, strict field validation).
      const spec = {
        source: compact(input.source),
        stages: jsonObject(input.stages, 'stages'),
        ...(input.priority == null ? {} : { priority: input.priority }),
        ...(input.outputPrefix == null ? {} : { output: { prefix: input.outputPrefix } }),
        ...(input.timeouts == null ? {} : { timeouts: jsonObject(input.timeouts, 'timeouts') }),
      } as AudioJobSpec;
      return audioJobView(await ctx.services.writes.createAudioJob(input.namespace, input.name, spec));
    },

    async deleteAudioJob(_: unknown, args: { namespace: string; name: string }, ctx: ApiContext) {
      await ctx.access.require({ verb: 'delete', resource: 'audiojobs', namespace: args.namespace });
      return ctx.services.writes.deleteAudioJob(args.namespace, args.name);
    },

    async triggerBackup(_: unknown, args: { namespace: string; name: string }, ctx: ApiContext) {
      await ctx.access.require({ verb: 'patch', resource: 'devices', namespace: args.namespace });
      await requireDevice(ctx, args.namespace, args.name);
      const requestedAt = new Date();
      await ctx.services.writes.requestBackup(args.namespace, args.name, requestedAt);
      return { namespace: args.namespace, name: args.name, requestedAt };
    },
  },
};
