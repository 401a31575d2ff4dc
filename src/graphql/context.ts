import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppServices } from '../services.js';
import type { Logger } from '../logger.js';
import type { Authenticated } from '../modules/auth/session.service.js';
import type { UserEntity } from '../modules/user/user.entity.js';
import { unauthenticated } from '../shared/errors.js';

export interface RequestInfo {
  requestId: string;
  ip: string;
  userAgent: string | null;
}

/** What an operation that came over a WebSocket may do to its own connection. */
export interface ConnectionControl {
  /** Moves the connection to another access token of its session; resolves with the new expiry. */
  renew(accessToken: string): Promise<Date>;
}

/** What Yoga's context factory gets for an operation that came over a WebSocket. */
export interface WebSocketOperation {
  accessToken: string;
  info: RequestInfo;
  connection: ConnectionControl;
}

/** One per operation, for HTTP and WebSocket alike; only `services` (the instance's container) is shared between operations. */
export interface Context extends RequestInfo {
  readonly em: EntityManager;
  readonly services: AppServices;
  readonly logger: Logger;
  /**
   * The caller, resolved from the access token on first use and at most once per operation.
   * Null without a token; a bad one rejects with its code (INVALID_TOKEN, TOKEN_EXPIRED,
   * TOKEN_REVOKED), so only the fields that ask who is calling fail (API.md, Errors).
   */
  viewer(): Promise<UserEntity | null>;
  /** The session of the access token; null without one; rejects like `viewer()`. */
  sessionId(): Promise<string | null>;
  /** For `logout` only: the caller of a validly signed, unrevoked access token, even an expired one. */
  viewerAllowingExpiry(): Promise<UserEntity | null>;
  /** The WebSocket connection the operation came over; null over HTTP. */
  readonly connection: ConnectionControl | null;
}

/** A client's X-Request-Id when it is sane, so its logs and ours line up; otherwise a new one. */
export function requestIdFrom(headers: Pick<Headers, 'get'>): string {
  const given = headers.get('x-request-id');
  return given && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
}

export function requestInfo(headers: Pick<Headers, 'get'>, remoteAddress: string | undefined, requestId = requestIdFrom(headers)): RequestInfo {
  return {
    requestId,
    ip: remoteAddress ?? 'unknown',
    userAgent: headers.get('user-agent')?.slice(0, 500) ?? null,
  };
}

/** Runs `load` on the first call only; every later call shares its promise. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => (pending ??= load());
}

/**
 * Builds an operation's context. Nothing is checked here: `accessToken` (which may throw, for a
 * malformed header) runs when a field first asks for the viewer, so operations that carry their
 * own credential (login, refreshToken…) never fail because of a stale header.
 */
export function createContext(
  services: AppServices,
  info: RequestInfo,
  accessToken: () => string | null,
  connection: ConnectionControl | null = null,
): Context {
  const em = services.orm.em.fork() as EntityManager;
  const auth = once(async (): Promise<Authenticated | null> => {
    const token = accessToken();
    return token ? services.sessions.authenticate(em, token) : null;
  });
  const authAllowingExpiry = once(async (): Promise<Authenticated | null> => {
    const token = accessToken();
    return token ? services.sessions.authenticate(em, token, { allowExpired: true }) : null;
  });
  return {
    ...info,
    em,
    services,
    logger: services.logger.child({ requestId: info.requestId }),
    viewer: async () => (await auth())?.user ?? null,
    sessionId: async () => (await auth())?.sessionId ?? null,
    viewerAllowingExpiry: async () => (await authAllowingExpiry())?.user ?? null,
    connection,
  };
}

/** The signed-in caller, for fields behind the `loggedIn` scope (which has already refused anonymous ones). */
export async function signedInViewer(context: Pick<Context, 'viewer'>): Promise<UserEntity> {
  const viewer = await context.viewer();
  if (!viewer) throw unauthenticated();
  return viewer;
}
