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
}

export function requestInfo(headers: Headers, remoteAddress: string | undefined): RequestInfo {
  const given = headers.get('x-request-id');
  return {
    requestId: given && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID(),
    ip: remoteAddress ?? 'unknown',
    userAgent: headers.get('user-agent')?.slice(0, 500) ?? null,
  };
}

export function createContext(services: AppServices, info: RequestInfo, viewer: UserEntity | null): Context {
  return {
    ...info,
    em: services.orm.em.fork() as EntityManager,
    services,
    logger: services.logger.child({ requestId: info.requestId }),
    viewer,
  };
}
