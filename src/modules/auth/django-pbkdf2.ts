import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

// Password hashes carried over from the Django original (`npm run import:django`). Django
// writes `pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte SHA-256 PBKDF2 digest>`, or
// `!<random>` (`set_unusable_password()`) for an account that has no password at all.

const pbkdf2Async = promisify(pbkdf2);
const PREFIX = 'pbkdf2_sha256$';
const DIGEST_BYTES = 32;
/** Far above Django's own (1,000,000 in 5.2); a larger count is a corrupt row, not a hash to spend a minute on. */
const MAX_ITERATIONS = 20_000_000;

export const isDjangoPbkdf2Hash = (storedHash: string): boolean => storedHash.startsWith(PREFIX);

/** Django's unusable password: never verified, never matched; the user resets it. */
export const isUnusablePasswordHash = (storedHash: string): boolean => storedHash.startsWith('!');

/**
 * Verifies `password` against a Django `pbkdf2_sha256` hash: PBKDF2-HMAC-SHA256 over the UTF-8
 * bytes of the password and salt, with the iteration count the hash names, compared in constant
 * time. It runs on libuv's thread pool (like argon2id), never on the event loop; callers run it
 * inside the same hashing slots as argon2id, since one verification costs as much as several.
 */
export async function verifyDjangoPbkdf2(storedHash: string, password: string): Promise<boolean> {
  const [algorithm, iterationsText, salt, encoded, ...rest] = storedHash.split('$');
  if (algorithm !== 'pbkdf2_sha256' || rest.length > 0 || !salt || !encoded || !/^\d+$/.test(iterationsText ?? '')) return false;
  const iterations = Number(iterationsText);
  if (iterations < 1 || iterations > MAX_ITERATIONS) return false;
  const expected = Buffer.from(encoded, 'base64');
  if (expected.length !== DIGEST_BYTES) return false;
  const derived = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, DIGEST_BYTES, 'sha256');
  return timingSafeEqual(derived, expected);
}
