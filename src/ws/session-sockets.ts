import type { WebSocket } from 'ws';
import type { SessionSockets } from '../events/session-sockets.js';
import type { Logger } from '../logger.js';
import type { RevokedSessions } from '../modules/auth/revoked-sessions.js';

/** Closes (4403 "token revoked") the sockets of sessions revoked on any instance; returns the unsubscribe. */
export function closeRevokedSessions(revokedSessions: Pick<RevokedSessions, 'onRevoked'>, sockets: SessionSockets<WebSocket>, log: Logger): () => void {
  return revokedSessions.onRevoked(({ sessionIds }) => {
    const closed = sockets.closeSessions(sessionIds, 'token revoked');
    if (closed > 0) log.info({ sessions: sessionIds.length, sockets: closed }, 'closed the sockets of revoked sessions');
  });
}
