import { BENCH_PASSWORD, type BenchUser } from './bench-database.js';

export const ME_QUERY = /* GraphQL */ `{ me { id email role startupProfile { companyName } } }`;
export const TYPENAME_QUERY = /* GraphQL */ `{ __typename }`;
export const LOGIN = /* GraphQL */ `mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken refreshToken } }`;
export const REFRESH = /* GraphQL */ `mutation Refresh($refreshToken: String!) { refreshToken(refreshToken: $refreshToken) { accessToken refreshToken } }`;
export const START_CONVERSATION = /* GraphQL */ `mutation Start($userId: ID!) { startConversation(userId: $userId) { id } }`;
export const SEND_MESSAGE = /* GraphQL */ `mutation Send($conversationId: ID!, $body: String!) { sendMessage(conversationId: $conversationId, body: $body) { id } }`;
export const MESSAGE_SENT = /* GraphQL */ `subscription MessageSent($conversationId: ID!) { messageSent(conversationId: $conversationId) { id body createdAt sender { id } } }`;

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** One GraphQL request over HTTP, for setting up (not for measuring: autocannon does that). */
export async function gql<T>(baseUrl: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse<T>;
  if (!body.data || body.errors) throw new Error(`GraphQL request failed (${response.status}): ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Runs `task` over `items` with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}

export const login = async (baseUrl: string, user: BenchUser): Promise<Tokens> =>
  (await gql<{ login: Tokens }>(baseUrl, LOGIN, { email: user.email, password: BENCH_PASSWORD })).login;

/** Signs every user in, a few at a time (each login is an argon2id verification). */
export const loginAll = (baseUrl: string, users: readonly BenchUser[]): Promise<Tokens[]> => mapLimit(users, 8, (user) => login(baseUrl, user));

export const graphqlBody = (query: string, variables?: Record<string, unknown>) => JSON.stringify(variables ? { query, variables } : { query });
