import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainServices } from '../container.js';
import type { Logger } from '../logger.js';
import type { Authenticated, ClientInfo } from '../modules/auth/session.service.js';
import type { UserView } from '../modules/user/user.entity.js';

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

/**
 * Who is calling, resolved from the access token on first use and at most once per operation.
 * Each is null without a token; a bad one rejects with its code (INVALID_TOKEN, TOKEN_EXPIRED,
 * TOKEN_REVOKED), so only the fields that ask who is calling fail (API.md, Errors).
 */
export interface ViewerAccess {
  viewer(): Promise<UserView | null>;
  /** The session of the access token. */
  sessionId(): Promise<string | null>;
  /** For `logout` only: the caller of a validly signed, unrevoked access token, even an expired one. */
  viewerAllowingExpiry(): Promise<UserView | null>;
}

/** One per operation, for HTTP and WebSocket alike; only `services` is shared between operations. */
export interface Context extends RequestInfo {
  readonly em: EntityManager;
  readonly logger: Logger;
  /** The request's address and user agent, as sessions record them. */
  readonly client: ClientInfo;
  readonly auth: ViewerAccess;
  /** The WebSocket connection the operation came over; null over HTTP. */
  readonly connection: ConnectionControl | null;
  readonly services: DomainServices;
}

/** The context of fields behind the `loggedIn` scope (`t.withAuth({ loggedIn: true })`): the caller is known. */
export interface SignedInContext extends Context {
  readonly viewer: UserView;
}

/** What the context factory needs from the container. */
export interface ContextDeps {
  fork(): EntityManager;
  logger: Logger;
  services: DomainServices;
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
 * Makes `target`, the object Yoga builds for an operation, this operation's context. Nothing is
 * checked here: `accessToken` (which may throw, for a malformed header) runs when a field first
 * asks for the viewer, so operations that carry their own credential (login, refreshToken…)
 * never fail because of a stale header. The EntityManager fork and the request's logger are
 * made on first use: a `me` answered from the authentication cache needs neither, and a
 * subscription waiting for events holds no fork. They are defined on Yoga's object itself
 * because Yoga copies a returned context's properties, which would run the getters at once.
 */
export function attachContext(
  target: object,
  { fork, logger, services }: ContextDeps,
  info: RequestInfo,
  accessToken: () => string | null,
  connection: ConnectionControl | null = null,
): Context {
  let em: EntityManager | undefined;
  let log: Logger | undefined;
  const lazyEm = () => (em ??= fork());
  const { sessions } = services;
  const authenticated = once(async (): Promise<Authenticated | null> => {
    const token = accessToken();
    return token ? sessions.authenticate(lazyEm, token) : null;
  });
  const authenticatedAllowingExpiry = once(async (): Promise<Authenticated | null> => {
    const token = accessToken();
    return token ? sessions.authenticate(lazyEm, token, { allowExpired: true }) : null;
  });
  Object.defineProperties(target, {
    em: { get: lazyEm, enumerable: true, configurable: true },
    logger: { get: () => (log ??= logger.child({ requestId: info.requestId })), enumerable: true, configurable: true },
  });
  const eager: Omit<Context, 'em' | 'logger'> = {
    ...info,
    client: { ip: info.ip, userAgent: info.userAgent },
    auth: {
      viewer: async () => (await authenticated())?.user ?? null,
      sessionId: async () => (await authenticated())?.sessionId ?? null,
      viewerAllowingExpiry: async () => (await authenticatedAllowingExpiry())?.user ?? null,
    },
    connection,
    services,
  };
  return Object.assign(target as Pick<Context, 'em' | 'logger'>, eager);
}

/**
 * The context of one subscription event: the operation's, seen through the prototype, with its
 * own EntityManager fork made only when a resolver asks for it (an event that carries all the
 * selection needs, the usual chat message, never forks). Being a new object, it also gets new
 * Pothos dataloaders, created as a field first needs one, so counts and last messages are
 * computed afresh for every event instead of being served from the first event's cache.
 */
export function eventContext(base: Context, fork: () => EntityManager): Context {
  let em: EntityManager | undefined;
  return Object.create(base, { em: { get: () => (em ??= fork()), enumerable: true, configurable: true } }) as Context;
}

/**
 * The `loggedIn` scope: resolves the caller (once per operation, only for fields that ask) and
 * records it on the context as `viewer`, which the fields behind the scope read (AuthContexts).
 * The record is made here rather than when the context is built because most operations never
 * need the viewer, and resolving it there would fail every field of a stale token's operation.
 */
export async function signInContext(context: Context): Promise<boolean> {
  const viewer = await context.auth.viewer();
  if (viewer) Object.assign(context, { viewer } satisfies Pick<SignedInContext, 'viewer'>);
  return viewer !== null;
}
