import type { IncomingMessage } from 'node:http';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isAppError } from '../shared/errors.js';
import type { ClientInfo, SessionService, VerifiedAccess } from '../modules/auth/session.service.js';
import { randomUUID } from 'node:crypto';
import type { Context as WsContext } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { WebSocket } from 'ws';
import type { Container } from '../container.js';
import { REFUSED_CLOSE_CODE } from '../events/session-sockets.js';
import { clientAddress } from '../http/client-address.js';
import { headersOf } from '../http/request-info.js';
import { requestInfo } from '../graphql/context.js';
import type { Logger } from '../logger.js';

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
  // A copy of its own: the parsed value may be a slice that keeps the whole URL alive for as
  // long as the connection keeps its token.
  return Buffer.from(token, 'utf8').toString('utf8');
}

/**
 * Checks a connection's token exactly as HTTP requests are checked (signature, type, expiry,
 * revoked session, active user). Throws `ConnectionRefused` for any token problem.
 */
export async function authenticateConnection(
  em: () => EntityManager,
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

/** WebSocket "policy violation": a user or an address already holds MAX_CONNECTIONS_PER_USER/_IP. */
const TOO_MANY_CONNECTIONS_CLOSE_CODE = 1008;
/** graphql-ws's code for a server-side failure; the client may retry. */
const INTERNAL_ERROR_CLOSE_CODE = 4500;

/** Who holds an accepted connection; kept in graphql-ws's `extra` for its operations. */
export interface Connection {
  id: string;
  accessToken: string;
  sessionId: string;
  userId: string;
  /** The address and user agent of the upgrade request, as its operations record them. */
  client: ClientInfo;
}

export type ConnectionExtra = {
  connection: Connection;
  /** The set-up of the operation that arrived last (see inArrivalOrder in yoga-operation.ts). */
  setupQueue?: Promise<void>;
};

type ConnectContext = WsContext<Record<string, unknown>, Extra & Partial<ConnectionExtra>>;

/** What the WebSocket server takes from the container. */
export type WebSocketServices = Pick<Container, 'fork' | 'revokedSessions' | 'sessionSockets' | 'connectionCaps' | 'socketLifecycle'> & {
  sessions: ConnectionSessions;
  /** Whether X-Forwarded-For names the client (TRUST_PROXY). */
  trustProxy: boolean;
};

export interface ConnectionGate {
  services: WebSocketServices;
  log: Logger;
}

const refuse = (socket: WebSocket, reason: string): false => {
  socket.close(REFUSED_CLOSE_CODE, reason);
  return false;
};

/**
 * graphql-ws's onConnect: authenticates the connection before it is acknowledged, applies the
 * per-user and per-address caps, and registers the socket under its session.
 */
export function acceptConnection({ services, log }: ConnectionGate) {
  const { sessions, revokedSessions, sessionSockets } = services;
  return async (ctx: ConnectContext): Promise<boolean> => {
    const { socket, request } = ctx.extra;
    try {
      const auth = await authenticateConnection(services.fork, sessions, request, ctx.connectionParams);
      // The client may have gone, or the session been revoked, while the user was loading.
      if (socket.readyState !== socket.OPEN) return false;
      if (revokedSessions.has(auth.sessionId)) return refuse(socket, 'token revoked');
      const { ip, userAgent } = requestInfo(headersOf(request), clientAddress(request, services.trustProxy));
      const client = { ip, userAgent };
      const release = services.connectionCaps.acquire(auth.user.id, client.ip);
      if (!release) {
        socket.close(TOO_MANY_CONNECTIONS_CLOSE_CODE, 'too many connections');
        return false;
      }
      socket.once('close', release);
      ctx.extra.connection = { id: randomUUID(), accessToken: auth.accessToken, sessionId: auth.sessionId, userId: auth.user.id, client };
      forgetUpgradeRequest(ctx.extra);
      sessionSockets.add(socket, auth.sessionId, new Date(auth.claims.exp * 1000));
      services.socketLifecycle.opened({ userId: auth.user.id, sessionId: auth.sessionId, connectionId: ctx.extra.connection.id });
      log.info({ connectionId: ctx.extra.connection.id, userId: auth.user.id, sessionId: auth.sessionId }, 'websocket connection accepted');
      return true;
    } catch (error) {
      const reason = refusalReason(error);
      if (!reason) {
        // Not the client's fault (the database is unreachable, say): log it here, where the
        // request id and redaction apply, rather than let graphql-ws print it to the console.
        log.error({ err: error }, 'websocket connection could not be checked');
        socket.close(INTERNAL_ERROR_CLOSE_CODE, 'internal error');
        return false;
      }
      log.info({ reason }, 'websocket connection refused');
      return refuse(socket, reason);
    }
  };
}

/**
 * graphql-ws keeps the upgrade request in `extra` for the connection's whole life: with its
 * headers, URL (and token) and stream state, a large part of what an idle socket holds. Once
 * the connection is accepted everything its operations need is in `extra.connection`, so the
 * request is let go; `extra.request` is not read after this (graphql-ws itself never reads it).
 */
function forgetUpgradeRequest(extra: ConnectContext['extra']): void {
  // Overwritten rather than deleted: a delete would turn `extra` into a slower, larger dictionary object.
  Reflect.set(extra, 'request', undefined);
}

/** graphql-ws's onClose: the socket leaves the registry and presence hears it went. */
export function releaseConnection({ services }: Pick<ConnectionGate, 'services'>) {
  return (ctx: ConnectContext) => {
    services.sessionSockets.remove(ctx.extra.socket);
    const { connection } = ctx.extra;
    if (connection) services.socketLifecycle.closed({ userId: connection.userId, sessionId: connection.sessionId, connectionId: connection.id });
  };
}
