import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { Plugin } from 'graphql-yoga';

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
 * graphql-armor's rules as Yoga plugins; they run in validation, so HTTP and WebSocket alike.
 * "Did you mean …?" hints help a developer and map the schema for an attacker: they are kept
 * only outside production.
 */
export function armorPlugins(limits: QueryLimits, { hideFieldSuggestions }: { hideFieldSuggestions: boolean }): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.maxTokens }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ n: limits.maxAliases, allowList: [] }),
    maxDirectivesPlugin({ n: limits.maxDirectives }),
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true }),
  ];
  if (hideFieldSuggestions) plugins.push(blockFieldSuggestionsPlugin());
  return plugins;
}
