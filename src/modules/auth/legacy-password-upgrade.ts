import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db.js';
import { isDjangoPbkdf2Hash } from './django-pbkdf2.js';
import { hashPassword } from './passwords.js';

/**
 * After a successful login with a hash imported from the Django original, replaces it with an
 * argon2id hash of the same password, so the next login costs an argon2id verification instead
 * of a million PBKDF2 rounds. Only the hash that was verified is replaced: a password changed
 * meanwhile wins.
 */
export async function upgradeLegacyPasswordHash(em: EntityManager, userId: string, verifiedHash: string, password: string): Promise<void> {
  if (!isDjangoPbkdf2Hash(verifiedHash)) return;
  const upgraded = await hashPassword(password);
  await sql(em, `update "user" set "password_hash" = ? where "id" = ? and "password_hash" = ?`, [upgraded, userId, verifiedHash]);
}
