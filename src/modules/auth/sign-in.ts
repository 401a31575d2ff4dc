import type { EntityManager } from '@mikro-orm/postgresql';
import { isAppError } from '../../graphql/errors.js';
import type { RateLimits } from '../../security/rate-limits.js';
import type { AuthPayloadShape, ClientInfo, SessionService } from './session.service.js';

/** Login behind its rate limits: per IP for every attempt, per email for failures only. */
export async function signIn(
  em: EntityManager,
  sessions: SessionService,
  limits: RateLimits,
  email: string,
  password: string,
  client: ClientInfo,
): Promise<AuthPayloadShape> {
  const normalized = email.trim().toLowerCase();
  await limits.beforeLogin(client.ip ?? 'unknown', normalized);
  try {
    return await sessions.login(em, normalized, password, client);
  } catch (error) {
    if (isAppError(error) && error.code === 'INVALID_CREDENTIALS') await limits.loginFailed(normalized);
    throw error;
  }
}
