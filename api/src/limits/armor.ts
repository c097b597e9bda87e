import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { Plugin } from 'graphql-yoga';

export interface DocumentLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = {
  maxDepth: 8,
  maxCost: 5_000,
  maxAliases: 15,
  maxTokens: 2_000,
  maxDirectives: 20,
};

/**
 * graphql-armor's depth, cost, alias, token and directive limits (each rejection is a GraphQL
 * error before execution); field suggestions ("did you mean …") are blocked in production so the
 * schema cannot be mined through typos when introspection is off.
 */
export function useDocumentLimits(limits: DocumentLimits, production: boolean): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    costLimit: {
      maxCost: limits.maxCost,
      ignoreIntrospection: true,
      objectCost: 2,
      scalarCost: 1,
      depthCostFactor: 1.5,
    },
    maxAliases: { n: limits.maxAliases },
    maxTokens: { n: limits.maxTokens },
    maxDirectives: { n: limits.maxDirectives },
    blockFieldSuggestion: { enabled: production },
  }) as Plugin;
}
