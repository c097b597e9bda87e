import type { ApiContext } from './context.js';
import type { StemView } from './views.js';
import type { StemLink } from '../audio/stem-files.js';
import { mapErrors } from '../errors.js';

/** One link per stem and operation, so url and urlExpiresAt agree. */
const links = new WeakMap<StemView, Promise<StemLink | null>>();

function linkFor(stem: StemView, ctx: ApiContext): Promise<StemLink | null> {
  let link = links.get(stem);
  if (!link) {
    link = mapErrors(async () => {
      // The same check as the job itself, whichever query reached the stem.
      await ctx.access.require({ verb: 'get', resource: 'audiojobs', namespace: stem.owner.namespace });
      const files = ctx.services.stems;
      if (!files) return null;
      const origin = ctx.services.publicUrl ?? (ctx.request ? new URL(ctx.request.url).origin : '');
      return files.link(stem.owner, stem, origin);
    });
    links.set(stem, link);
  }
  return link;
}

export const stemResolvers = {
  Stem: {
    url: async (stem: StemView, _: unknown, ctx: ApiContext) => (await linkFor(stem, ctx))?.url ?? null,
    urlExpiresAt: async (stem: StemView, _: unknown, ctx: ApiContext) =>
      (await linkFor(stem, ctx))?.expiresAt ?? null,
  },
};
