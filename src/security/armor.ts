import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { QUERY_LIMIT_CODE } from '../graphql/errors.js';
import { queryCostPlugin } from './query-cost.js';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
}

/**
 * Sized for this schema: the deepest real query (a chat page with each message's sender and
 * the sender's profile, industry and location) is 11 levels and costs about 300; GraphiQL's
 * introspection query is exempt from depth and cost.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 10,
  maxTokens: 2_000,
  maxCost: 5_000,
};

/**
 * API.md: a query limit is GRAPHQL_VALIDATION_FAILED. Armor's errors carry no code, and the
 * token limit fails inside the parser, where Yoga would call it a syntax error.
 */
const tagAsQueryLimit = (_context: unknown, error: GraphQLError): void => {
  (error.extensions as Record<string, unknown>).code = QUERY_LIMIT_CODE;
};

/**
 * graphql-armor's rules as Yoga plugins; they run in parse and validation, so HTTP and
 * WebSocket alike. Cost is ours (query-cost.ts): it must see the variables.
 */
export function armorPlugins(limits: QueryLimits): Plugin[] {
  const onReject = [tagAsQueryLimit];
  return [
    maxTokensPlugin({ n: limits.maxTokens, onReject }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject }),
    maxAliasesPlugin({ n: limits.maxAliases, allowList: [], onReject }),
    maxDirectivesPlugin({ n: limits.maxDirectives, onReject }),
    queryCostPlugin(limits.maxCost),
    blockFieldSuggestionsPlugin(),
  ];
}
