import { createHmac, hkdfSync, timingSafeEqual, type BinaryLike } from 'node:crypto';
import { isUuid } from '../../shared/validation.js';

const PURPOSE = 'unsubscribe-unread-emails';

/**
 * The tokens of one-click unsubscribe links: `<userId>.<HMAC-SHA256 of purpose and user id>`,
 * keyed with a key of their own derived from JWT_SECRET (HKDF, as the JWT keys are), so no other
 * token of the app can pass for one. They do not expire: a link in an old email must still work,
 * and all it can do is turn emails off.
 */
export class UnsubscribeTokens {
  private readonly key: Buffer;

  constructor(secret: BinaryLike) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'forum-api/unsubscribe', PURPOSE, 32));
  }

  sign(userId: string): string {
    return `${userId}.${this.signature(userId).toString('base64url')}`;
  }

  /** The user a token was issued to; null when it is malformed, forged or altered. */
  verify(token: string | null | undefined): string | null {
    if (typeof token !== 'string' || token.length > 200) return null;
    const [userId, signature, ...rest] = token.split('.');
    if (!userId || !signature || rest.length > 0 || !isUuid(userId) || !/^[A-Za-z0-9_-]+$/.test(signature)) return null;
    const given = Buffer.from(signature, 'base64url');
    const expected = this.signature(userId);
    // Base64url decoding ignores stray trailing bits: compare the canonical encoding too.
    return given.length === expected.length && timingSafeEqual(given, expected) && given.toString('base64url') === signature ? userId : null;
  }

  private signature(userId: string): Buffer {
    return createHmac('sha256', this.key).update(`${PURPOSE}:${userId}`).digest();
  }
}
