import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { QUERY_LIMIT_CODE } from '../shared/errors.js';
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
 * the sender's profile, industry and location) is 11 levels. Cost counts page sizes (literal or
 * variable, see query-cost.ts): a page of 100 startups with owner, owner's profile, industry and
 * location costs about 12,000, while the nested-history document of the security review costs
 * 18.5 million at 100 per page and 185,000 at 10. GraphiQL's introspection query is exempt from
 * depth and cost.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 10,
  maxTokens: 2_000,
  maxCost: 20_000,
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
 * WebSocket alike. Cost is ours (query-cost.ts): it must see the variables. "Did you mean …?"
 * hints help a developer and map the schema for an attacker: they are kept only outside
 * production.
 */
export function armorPlugins(limits: QueryLimits, { hideFieldSuggestions }: { hideFieldSuggestions: boolean }): Plugin[] {
  const onReject = [tagAsQueryLimit];
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.maxTokens, onReject }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject }),
    maxAliasesPlugin({ n: limits.maxAliases, allowList: [], onReject }),
    maxDirectivesPlugin({ n: limits.maxDirectives, onReject }),
    queryCostPlugin(limits.maxCost),
  ];
  if (hideFieldSuggestions) plugins.push(blockFieldSuggestionsPlugin());
  return plugins;
}
