import type { CombinedError } from '@urql/core';

/** The `extensions.code`s of API.md "Errors" that the client reacts to. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REVOKED'
  | 'INVALID_CREDENTIALS'
  | 'ACCOUNT_INACTIVE'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'RATE_LIMITED'
  | 'GRAPHQL_VALIDATION_FAILED';

export function errorCodes(error: CombinedError | undefined): string[] {
  return error?.graphQLErrors.map((e) => String(e.extensions?.code ?? '')) ?? [];
}

export function hasCode(error: CombinedError | undefined, ...codes: ErrorCode[]): boolean {
  return errorCodes(error).some((code) => (codes as string[]).includes(code));
}

/** `extensions.fields` of a BAD_USER_INPUT error: input field name → message. */
export function fieldErrors(error: CombinedError | undefined): Record<string, string> {
  const fields = error?.graphQLErrors.find((e) => e.extensions?.code === 'BAD_USER_INPUT')?.extensions?.fields;
  return fields && typeof fields === 'object' ? (fields as Record<string, string>) : {};
}

/** One line for the user; field errors are shown next to their fields instead. */
export function errorMessage(error: CombinedError | undefined): string | null {
  if (!error) return null;
  if (error.networkError) return 'The server cannot be reached. Check your connection and try again.';
  const first = error.graphQLErrors[0];
  if (!first) return 'Something went wrong.';
  if (first.extensions?.code === 'RATE_LIMITED') {
    const retryAfter = Number(first.extensions.retryAfter);
    return `Too many attempts. Try again in ${Number.isFinite(retryAfter) ? Math.ceil(retryAfter) : 'a few'} seconds.`;
  }
  return first.message;
}
