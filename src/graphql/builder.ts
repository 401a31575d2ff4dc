import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { GraphQLError, Kind } from 'graphql';
import { signInContext, type Context, type SignedInContext } from './context.js';
import { forbidden, unauthenticated } from '../shared/errors.js';

export interface AuthScopes {
  loggedIn: boolean;
}

/** A refusal that signing in would lift is UNAUTHENTICATED; any other is FORBIDDEN. */
function needsSignIn(failure: AuthFailure): boolean {
  if (failure.kind === AuthScopeFailureType.AuthScope) return failure.scope === 'loggedIn';
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) return failure.failures.some(needsSignIn);
  return false;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  AuthContexts: { loggedIn: SignedInContext };
  DefaultFieldNullability: false;
  // Non-null edges and nodes: Apollo and urql clients then need no null checks per row.
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  DefaultInputFieldRequiredness: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string | number };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Resolving the viewer here, once per operation and only for fields that declare a scope,
    // lets a bad token fail just those fields with its own code (API.md, Errors).
    authScopes: async (context) => ({ loggedIn: await signInContext(context) }),
    // Over WebSocket the viewer is checked at connect time; the field scopes still run per operation.
    authorizeOnSubscribe: true,
    unauthorizedError: (_parent, _context, _info, result) => (needsSignIn(result.failure) ? unauthenticated() : forbidden()),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

builder.scalarType('DateTime', {
  description: 'An instant in time, as an ISO 8601 string in UTC.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : null),
});

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string.');
  return date;
}
