import { createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { invalidToken, tokenExpired } from '../../shared/errors.js';
import { isUuid } from '../../shared/validation.js';

export type TokenType = 'access' | 'refresh';

/** Enough for every client of a busy instance within one access-token lifetime; about 0.5 KB each. */
const VERIFIED_ACCESS_TOKENS_KEPT = 10_000;

export interface TokenClaims {
  sub: string;
  sid: string;
  jti: string;
  typ: TokenType;
  iat: number;
  exp: number;
}

export interface JwtSettings {
  secret: string;
  issuer: string;
  audience: string;
}

/**
 * Signs and verifies the two token kinds, each with its own key derived from JWT_SECRET (HKDF),
 * so a refresh token can never pass as an access token even if the `typ` check were forgotten.
 * KeyObjects are built once: jsonwebtoken re-imports a string secret on every call.
 */
export class JwtCodec {
  private readonly keys: Record<TokenType, KeyObject>;
  /**
   * Access tokens already verified, with their claims: a client sends the same token with every
   * request and WebSocket operation until it expires, and checking its HMAC and parsing its JSON
   * each time was 3–5 % of the server's CPU (`npm run bench`, W1 and W5). The key is the whole
   * token, so only a byte-identical token hits; expiry is still checked on every use, and
   * revocation is checked by the caller on every use. Failures are never stored.
   */
  private readonly verifiedAccess = new Map<string, TokenClaims>();

  constructor(private readonly settings: JwtSettings) {
    const derive = (purpose: TokenType) => createSecretKey(Buffer.from(hkdfSync('sha256', settings.secret, 'forum-api/jwt', `${purpose}-token`, 32)));
    this.keys = { access: derive('access'), refresh: derive('refresh') };
  }

  /** Deterministic: the same claims give the same token, which the refresh grace window relies on. */
  sign(claims: TokenClaims): string {
    return jwt.sign({ ...claims, iss: this.settings.issuer, aud: this.settings.audience }, this.keys[claims.typ], {
      algorithm: 'HS256',
    });
  }

  /**
   * Verifies signature (HS256 only), issuer, audience, type and expiry. Every failure is
   * INVALID_TOKEN except expiry, which is TOKEN_EXPIRED.
   */
  verify(token: string, typ: TokenType, options: { ignoreExpiration?: boolean } = {}): TokenClaims {
    if (typeof token !== 'string' || token.length > 4096) throw invalidToken();
    const known = typ === 'access' ? this.verifiedAccess.get(token) : undefined;
    if (known) {
      if (!options.ignoreExpiration && known.exp * 1000 <= Date.now()) throw tokenExpired();
      return known;
    }
    const claims = this.verifySignature(token, typ, options);
    if (typ === 'access') {
      // Oldest first in a Map: dropping the first key keeps the memory bounded.
      if (this.verifiedAccess.size >= VERIFIED_ACCESS_TOKENS_KEPT) this.verifiedAccess.delete(this.verifiedAccess.keys().next().value!);
      this.verifiedAccess.set(token, claims);
    }
    return claims;
  }

  private verifySignature(token: string, typ: TokenType, options: { ignoreExpiration?: boolean }): TokenClaims {
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.keys[typ], {
        algorithms: ['HS256'],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        ignoreExpiration: options.ignoreExpiration ?? false,
      });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw tokenExpired();
      throw invalidToken();
    }
    if (typeof payload === 'string' || payload.typ !== typ) throw invalidToken();
    const { sub, sid, jti, iat, exp } = payload;
    if (!isUuid(sub) || !isUuid(sid) || !isUuid(jti) || typeof iat !== 'number' || typeof exp !== 'number') throw invalidToken();
    return Object.freeze({ sub, sid, jti, typ, iat, exp });
  }
}
