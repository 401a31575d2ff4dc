import { type GraphQLResponse, postGraphQL } from '../graphql/http';
import { RefreshFailed, TokenManager, type TokenPair, webLock } from './token-manager';

const REFRESH = /* GraphQL */ `
  mutation Refresh($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) { accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt }
  }
`;

async function refreshTokens(refreshToken: string): Promise<TokenPair> {
  let response: GraphQLResponse<{ refreshToken: TokenPair }>;
  try {
    response = await postGraphQL<{ refreshToken: TokenPair }>(REFRESH, { refreshToken });
  } catch (error) {
    throw new RefreshFailed(undefined, `refresh did not reach the API: ${String(error)}`);
  }
  const pair = response.data?.refreshToken;
  if (pair) return pair;
  const first = response.errors?.[0];
  throw new RefreshFailed(first?.extensions?.code, first?.message ?? 'refresh failed');
}

/** The browser's one token manager: refresh token in localStorage, shared by this origin's tabs. */
export const tokens = new TokenManager({
  refresh: refreshTokens,
  storage: window.localStorage,
  channel: typeof BroadcastChannel === 'function' ? new BroadcastChannel('forum-auth') : null,
  exclusive: navigator.locks ? webLock(navigator.locks, 'forum-auth-refresh') : undefined,
});
