import type { EntityManager } from '@mikro-orm/postgresql';
import { isDjangoPbkdf2Hash } from './django-pbkdf2.js';
import { rehashPassword } from './password.repository.js';
import { hashPassword } from './passwords.js';

/**
 * After a successful login with a hash imported from the Django original, replaces it with an
 * argon2id hash of the same password, so the next login costs an argon2id verification instead
 * of a million PBKDF2 rounds. Only the hash that was verified is replaced: a password changed
 * meanwhile wins. Resolves with the hash the password now matches in the database (the login
 * checks it again under a row lock).
 */
export async function upgradeLegacyPasswordHash(em: EntityManager, userId: string, verifiedHash: string, password: string): Promise<string> {
  if (!isDjangoPbkdf2Hash(verifiedHash)) return verifiedHash;
  const upgraded = await hashPassword(password);
  return (await rehashPassword(em, { userId, checkedHash: verifiedHash, passwordHash: upgraded })) ? upgraded : verifiedHash;
}
