import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { invalidToken, tokenExpired } from '../../shared/errors.js';
import { EmailToken, type EmailTokenPurpose } from './email-token.entity.js';
import { consumeEmailTokenRow, isEmailTokenUsable } from './email-token.repository.js';

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export const hashEmailToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Creates a 32-byte token for `purpose` and retires the user's older ones of that purpose.
 * Returns the raw token, which exists only in the email from here on.
 */
export async function issueEmailToken(em: EntityManager, userId: string, purpose: EmailTokenPurpose, ttlSeconds: number): Promise<string> {
  await em.nativeUpdate(EmailToken, { user: userId, purpose, usedAt: null }, { usedAt: new Date() });
  const token = randomBytes(32).toString('base64url');
  em.create(EmailToken, {
    user: userId,
    purpose,
    tokenHash: hashEmailToken(token),
    expiresAt: new Date(Date.now() + ttlSeconds * 1000),
  });
  await em.flush();
  return token;
}

/**
 * Marks a token used and returns its user id, in one UPDATE that only one caller can win.
 * Unknown, used or retired tokens are INVALID_TOKEN; an unused token past its expiry is TOKEN_EXPIRED.
 */
export async function consumeEmailToken(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<string> {
  if (!TOKEN_RE.test(token)) throw invalidToken();
  const tokenHash = hashEmailToken(token);
  const userId = await consumeEmailTokenRow(em, tokenHash, purpose);
  return userId ?? refuseEmailToken(em, tokenHash, purpose);
}

/**
 * Fails unless `token` could be consumed now, without consuming it: work that costs something
 * (hashing a new password) is done only for a token that can succeed. The later
 * `consumeEmailToken` still decides, so a token used in between is refused there.
 */
export async function checkEmailToken(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<void> {
  if (!TOKEN_RE.test(token)) throw invalidToken();
  const tokenHash = hashEmailToken(token);
  if (!(await isEmailTokenUsable(em, tokenHash, purpose))) await refuseEmailToken(em, tokenHash, purpose);
}

async function refuseEmailToken(em: EntityManager, tokenHash: string, purpose: EmailTokenPurpose): Promise<never> {
  const existing = await em.findOne(EmailToken, { tokenHash, purpose }, { fields: ['usedAt', 'expiresAt'] });
  if (existing && !existing.usedAt && existing.expiresAt <= new Date()) throw tokenExpired();
  throw invalidToken();
}
