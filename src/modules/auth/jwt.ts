import { createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { invalidToken, tokenExpired } from '../../shared/errors.js';
import { isUuid } from '../../shared/validation.js';

export type TokenType = 'access' | 'refresh';

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
    return { sub, sid, jti, typ, iat, exp };
  }
}
