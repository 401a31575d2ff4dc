import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppServices } from '../services.js';
import type { Logger } from '../logger.js';
import type { UserEntity } from '../modules/user/user.entity.js';

export interface RequestInfo {
  requestId: string;
  ip: string;
  userAgent: string | null;
}

/** One per operation, for HTTP and WebSocket alike; nothing in it is shared between operations. */
export interface Context extends RequestInfo {
  readonly em: EntityManager;
  readonly services: AppServices;
  readonly logger: Logger;
  readonly viewer: UserEntity | null;
  /** The session of the access token, when there is one. */
  readonly sessionId: string | null;
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

/**
 * Builds an operation's context and resolves its viewer once. A bad access token fails the
 * whole operation with the token's code: it never downgrades to an anonymous request.
 */
export async function createContext(services: AppServices, info: RequestInfo, accessToken: string | null): Promise<Context> {
  const em = services.orm.em.fork() as EntityManager;
  const auth = accessToken ? await services.sessions.authenticate(em, accessToken) : null;
  return {
    ...info,
    em,
    services,
    logger: services.logger.child({ requestId: info.requestId }),
    viewer: auth?.user ?? null,
    sessionId: auth?.sessionId ?? null,
  };
}
