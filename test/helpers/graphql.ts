/**
 * The GraphQL documents several test files send, and the two ways tests read a result: its
 * data (the operation must have succeeded) or its BAD_USER_INPUT field map. A test that needs a
 * different selection writes its own document next to its assertions.
 */

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterInput!) { register(input: $input) { ok message } }
`;
export const ACTIVATE = /* GraphQL */ `
  mutation Activate($token: String!) { activate(token: $token) { id email role isActive } }
`;
export const RESEND = /* GraphQL */ `
  mutation Resend($email: String!) { resendActivation(email: $email) { ok message } }
`;
export const LOGIN = /* GraphQL */ `
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken accessTokenExpiresAt refreshTokenExpiresAt user { id email role } }
  }
`;
export const ME = /* GraphQL */ `query Me { me { id } }`;
export const REFRESH = /* GraphQL */ `
  mutation Refresh($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) { accessToken refreshToken accessTokenExpiresAt refreshTokenExpiresAt }
  }
`;
export const LOGOUT = /* GraphQL */ `mutation Logout($refreshToken: String!) { logout(refreshToken: $refreshToken) { ok message } }`;
export const LOGOUT_ALL = /* GraphQL */ `mutation LogoutAll { logoutAll { ok } }`;
export const SESSIONS = /* GraphQL */ `query Sessions { sessions { id current createdAt lastUsedAt userAgent } }`;
export const REVOKE_SESSION = /* GraphQL */ `mutation Revoke($id: ID!) { revokeSession(id: $id) { ok } }`;
export const CHANGE_PASSWORD = /* GraphQL */ `
  mutation Change($currentPassword: String!, $newPassword: String!) {
    changePassword(currentPassword: $currentPassword, newPassword: $newPassword) { accessToken refreshToken user { id } }
  }
`;
export const REQUEST_RESET = /* GraphQL */ `mutation RequestReset($email: String!) { requestPasswordReset(email: $email) { ok message } }`;
export const RESET = /* GraphQL */ `
  mutation Reset($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) { ok } }
`;

/** What HTTP (`gql`) and socket (`wsRequest`, `subscribe`) results have in common. */
export interface ResultLike<T> {
  data?: T | null;
  errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>;
}

/** The data of a result that must have succeeded; fails the test with the errors otherwise. */
export function dataOf<T>(result: ResultLike<T>, what = 'the operation'): T {
  if (result.errors?.length || result.data == null) throw new Error(`${what} failed: ${JSON.stringify(result.errors ?? result)}`);
  return result.data;
}

/** The field → message map of a BAD_USER_INPUT error (API.md "Errors"), or undefined without one. */
export function fieldErrors(result: ResultLike<unknown>): Record<string, string> | undefined {
  const invalid = result.errors?.find((error) => error.extensions?.code === 'BAD_USER_INPUT');
  const fields = invalid?.extensions?.fields;
  return typeof fields === 'object' && fields !== null ? (fields as Record<string, string>) : undefined;
}

/** The API.md code a service call was rejected with (an AppError's), undefined when it was fulfilled. */
export const rejectionCode = (outcome: PromiseSettledResult<unknown>): string | undefined =>
  outcome.status === 'rejected' ? (outcome.reason as { extensions?: { code?: string } }).extensions?.code : undefined;
