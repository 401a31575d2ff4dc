import { GraphQLError } from 'graphql';

/** The error codes of API.md; every expected failure carries one of them. */
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
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'BAD_REQUEST'
  | 'INTERNAL_SERVER_ERROR';

const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'You must be signed in.',
  INVALID_TOKEN: 'The token is invalid.',
  TOKEN_EXPIRED: 'The token has expired.',
  TOKEN_REVOKED: 'The token has been revoked.',
  INVALID_CREDENTIALS: 'Wrong email or password.',
  ACCOUNT_INACTIVE: 'The account is not activated yet; follow the link in the activation email.',
  FORBIDDEN: 'You are not allowed to do this.',
  NOT_FOUND: 'Not found.',
  BAD_USER_INPUT: 'Some fields are invalid.',
  RATE_LIMITED: 'Too many attempts; try again later.',
  GRAPHQL_PARSE_FAILED: 'The document is not valid GraphQL.',
  GRAPHQL_VALIDATION_FAILED: 'The document is not valid against the schema or exceeds a query limit.',
  BAD_REQUEST: 'The request is malformed.',
  INTERNAL_SERVER_ERROR: 'Unexpected error.',
};

/** A failure the client is meant to see: Yoga passes GraphQLErrors through its masking. */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string = DEFAULT_MESSAGES[code],
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export type FieldErrors = Record<string, string>;

export const unauthenticated = () => new AppError('UNAUTHENTICATED');
export const forbidden = (message?: string) => new AppError('FORBIDDEN', message);
export const notFound = (what = 'Object') => new AppError('NOT_FOUND', `${what} not found.`);
export const invalidToken = (message?: string) => new AppError('INVALID_TOKEN', message);
export const tokenExpired = () => new AppError('TOKEN_EXPIRED');
export const tokenRevoked = () => new AppError('TOKEN_REVOKED');
export const invalidCredentials = () => new AppError('INVALID_CREDENTIALS');
export const accountInactive = () => new AppError('ACCOUNT_INACTIVE');
export const badUserInput = (fields: FieldErrors) => new AppError('BAD_USER_INPUT', `Invalid input: ${Object.keys(fields).join(', ')}.`, { fields });
export const rateLimited = (retryAfter: number) =>
  new AppError('RATE_LIMITED', DEFAULT_MESSAGES.RATE_LIMITED, { retryAfter: Math.max(1, Math.ceil(retryAfter)) });

export const badRequest = (message?: string) => new AppError('BAD_REQUEST', message);
/** Query limits (depth, aliases, directives, tokens, cost) count as validation failures. */
export const QUERY_LIMIT_CODE: ErrorCode = 'GRAPHQL_VALIDATION_FAILED';

/** The body of an HTTP answer refused before GraphQL runs (too large, wrong content type). */
export const badRequestBody = (message: string = DEFAULT_MESSAGES.BAD_REQUEST) =>
  JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' satisfies ErrorCode } }] });

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
