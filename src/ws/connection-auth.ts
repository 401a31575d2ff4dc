import type { IncomingMessage } from 'node:http';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isAppError } from '../shared/errors.js';
import type { SessionService, VerifiedAccess } from '../modules/auth/session.service.js';
import { REFUSED_CLOSE_CODE } from '../events/session-sockets.js';

export { REFUSED_CLOSE_CODE };

/** The port to the session service a connection's authentication needs. */
export type ConnectionSessions = Pick<SessionService, 'bearerToken' | 'verifyAccess'>;

export type RefusalReason = 'missing token' | 'invalid token' | 'token expired' | 'token revoked';

/** Ends a connection attempt with close code 4403 and `reason` (API.md's wording). */
export class ConnectionRefused extends Error {
  constructor(readonly reason: RefusalReason) {
    super(reason);
  }
}

/** The close reason for a token failure from `SessionService.authenticate`; null for anything else. */
export function refusalReason(error: unknown): RefusalReason | null {
  if (error instanceof ConnectionRefused) return error.reason;
  if (!isAppError(error)) return null;
  switch (error.code) {
    case 'INVALID_TOKEN':
      return 'invalid token';
    case 'TOKEN_EXPIRED':
      return 'token expired';
    case 'TOKEN_REVOKED':
      return 'token revoked';
    case 'UNAUTHENTICATED':
      return 'missing token';
    default:
      return null;
  }
}

/**
 * The access token of a connection: `connectionParams.authorization` ("Bearer <token>", the
 * way that keeps tokens out of URLs) when given, else the `?token=` of the upgrade URL.
 * connectionParams win because clients compute them afresh on every reconnect.
 */
export function connectionAccessToken(
  sessions: Pick<SessionService, 'bearerToken'>,
  request: Pick<IncomingMessage, 'url'>,
  connectionParams: Readonly<Record<string, unknown>> | undefined,
): string {
  const header = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (header !== undefined && header !== null && header !== '') {
    if (typeof header !== 'string') throw new ConnectionRefused('invalid token');
    return sessions.bearerToken(header);
  }
  const token = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
  if (!token) throw new ConnectionRefused('missing token');
  return token;
}

/**
 * Checks a connection's token exactly as HTTP requests are checked (signature, type, expiry,
 * revoked session, active user). Throws `ConnectionRefused` for any token problem.
 */
export async function authenticateConnection(
  em: EntityManager,
  sessions: ConnectionSessions,
  request: Pick<IncomingMessage, 'url'>,
  connectionParams: Readonly<Record<string, unknown>> | undefined,
): Promise<VerifiedAccess & { accessToken: string }> {
  try {
    const accessToken = connectionAccessToken(sessions, request, connectionParams);
    return { ...(await sessions.verifyAccess(em, accessToken)), accessToken };
  } catch (error) {
    const reason = refusalReason(error);
    throw reason ? new ConnectionRefused(reason) : error;
  }
}
