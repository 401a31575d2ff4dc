import type { EntityManager } from '@mikro-orm/postgresql';
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
  const attempt = await limits.beforeLogin(client.ip ?? 'unknown', normalized);
  return attempt.settle(sessions.login(em, normalized, password, client));
}
