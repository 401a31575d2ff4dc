import { Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { authExchange } from '@urql/exchange-auth';
import type { TokenManager } from '../auth/token-manager';
import { GRAPHQL_HTTP_URL } from '../config';
import { createCache } from './cache';
import { errorCodes } from './errors';
import type { ChatSocket } from './socket';

/** Operations that carry their own credential: their INVALID_TOKEN is about that credential, not the session. */
const OWN_CREDENTIAL = new Set(['login', 'register', 'activate', 'resendActivation', 'requestPasswordReset', 'resetPassword', 'refreshToken']);

/**
 * One urql client per signed-in session (a new one after sign-out, so no cached data outlives
 * it): queries and mutations over HTTP with the access token, subscriptions over the socket.
 */
export function createGraphQLClient(tokens: TokenManager, socket: ChatSocket | null): Client {
  return new Client({
    url: GRAPHQL_HTTP_URL,
    exchanges: [
      mapExchange({
        onError(error) {
          const root = error.graphQLErrors[0]?.path?.[0];
          if (typeof root === 'string' && OWN_CREDENTIAL.has(root)) return;
          const codes = errorCodes(error);
          if (codes.includes('TOKEN_REVOKED') || codes.includes('INVALID_TOKEN')) tokens.signOut('revoked');
        },
      }),
      createCache(),
      authExchange(async (utils) => ({
        addAuthToOperation(operation) {
          const token = tokens.currentAccessToken();
          return token ? utils.appendHeaders(operation, { Authorization: `Bearer ${token}` }) : operation;
        },
        willAuthError: () => tokens.needsRefresh(),
        didAuthError: (error) => error.graphQLErrors.some((e) => e.extensions?.code === 'TOKEN_EXPIRED'),
        async refreshAuth() {
          tokens.expireAccessToken();
          // A failed refresh either signed us out (the session ended) or will be retried by the next request.
          await tokens.refresh().catch(() => null);
        },
      })),
      fetchExchange,
      ...(socket
        ? [
            subscriptionExchange({
              forwardSubscription(request) {
                const input = { ...request, query: request.query ?? '' };
                return {
                  subscribe: (sink) => ({ unsubscribe: socket.client.subscribe(input, sink) }),
                };
              },
            }),
          ]
        : []),
    ],
  });
}
