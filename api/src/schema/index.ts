import { createSchema } from 'graphql-yoga';
import type { GraphQLSchema } from 'graphql';
import type { ApiContext } from './context.js';
import { mutationResolvers } from './mutation-resolvers.js';
import { presenceResolvers } from './presence-resolvers.js';
import { queryResolvers } from './query-resolvers.js';
import { stemResolvers } from './stem-resolvers.js';
import { DateTime, JSONScalar, Sequence } from './scalars.js';
import { subscriptionResolvers } from './subscription-resolvers.js';
import { typeDefs } from './type-defs.js';

export function buildSchema(): GraphQLSchema {
  return createSchema<ApiContext>({
    typeDefs,
    resolvers: [
      { DateTime, JSON: JSONScalar, Sequence },
      queryResolvers,
      mutationResolvers,
      subscriptionResolvers,
      stemResolvers,
      presenceResolvers,
    ],
  });
}

export type { ApiContext, Services } from './context.js';
