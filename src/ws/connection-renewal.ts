import type { ConnectionControl } from '../graphql/context.js';
import { forbidden, isAppError } from '../shared/errors.js';
import type { Logger } from '../logger.js';
import type { VerifiedAccess } from '../modules/auth/session.service.js';
import type { ClosableSocket, SessionSockets } from '../events/session-sockets.js';
import type { WebSocketServices } from './connection-auth.js';

/** The part of an open connection that a renewal changes. */
export interface RenewableConnection {
  id: string;
  accessToken: string;
  sessionId: string;
}

export interface RenewalTarget<S extends ClosableSocket> {
  services: Pick<WebSocketServices, 'fork' | 'sessions'>;
  sockets: SessionSockets<S>;
  socket: S;
  connection: RenewableConnection;
  logger: Logger;
}

/**
 * `renewConnection` (API.md, WebSocket connections): a client that refreshed hands the open
 * socket its new access token, and the socket's expiry follows that token instead of closing
 * at the old one's `exp`. Only a valid token of the connection's own session is taken; anything
 * else is FORBIDDEN and leaves the connection exactly as it was.
 */
export function renewalControl<S extends ClosableSocket>({ services, sockets, socket, connection, logger }: RenewalTarget<S>): ConnectionControl {
  return {
    async renew(accessToken) {
      let verified: VerifiedAccess;
      try {
        verified = await services.sessions.verifyAccess(services.fork, accessToken);
      } catch (error) {
        if (!isAppError(error)) throw error;
        throw forbidden(`The new access token was refused (${error.code}); the connection keeps its current token.`);
      }
      if (verified.sessionId !== connection.sessionId) {
        throw forbidden('The new access token belongs to another session; the connection keeps its current token.');
      }
      const expiresAt = new Date(verified.claims.exp * 1000);
      // False once the socket has closed (its old token expired, or the session was revoked).
      if (!sockets.renew(socket, expiresAt)) throw forbidden('The connection is closing.');
      connection.accessToken = accessToken;
      logger.info({ connectionId: connection.id, sessionId: connection.sessionId, expiresAt }, 'websocket connection renewed');
      return expiresAt;
    },
  };
}
