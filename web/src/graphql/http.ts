import { GRAPHQL_HTTP_URL } from '../config';

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } & Record<string, unknown> }>;
}

/**
 * A bare POST for the few calls that must not go through urql's auth exchange: refreshing
 * (it carries its own credential, and must not wait for itself).
 */
export async function postGraphQL<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  const response = await fetch(GRAPHQL_HTTP_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}
