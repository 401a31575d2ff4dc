import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { retryOnConflict } from '../../db/transaction-retry.js';
import { TurnBatcher } from '../../db/turn-batcher.js';
import type { PendingWork } from '../../shared/pending-work.js';
import { isUuid } from '../../shared/validation.js';
import { forbidden, invalidCredentials, invalidToken, accountInactive, notFound, tokenExpired, tokenRevoked, unauthenticated } from '../../shared/errors.js';
import { User, type UserEntity, type UserView } from '../user/user.entity.js';
import { ActiveUsers } from './active-users.js';
import type { JwtCodec, TokenClaims } from './jwt.js';
import { upgradeLegacyPasswordHash } from './legacy-password-upgrade.js';
import { verifyPassword } from './passwords.js';
import type { RateLimits } from '../../security/rate-limits.js';
import type { RevokedSessions } from './revoked-sessions.js';
import { Session, type SessionEntity } from './session.entity.js';
import { lockPasswordHash } from './password.repository.js';
import {
  recordRefreshToken,
  isSessionRevoked,
  presentedRefreshToken,
  revokeSessionRows,
  rotateRefreshTokens,
  type Rotation,
  type RotationRequest,
  unusedRefreshToken,
  type RefreshRow,
} from './session.repository.js';

export interface SessionSettings {
  accessTokenTtl: number;
  refreshTokenTtl: number;
  reuseGraceSeconds: number;
  sessionMaxAge: number;
  /** Whether a rotation waits for its WAL flush (REFRESH_DURABLE_COMMIT). */
  durableRotation: boolean;
}

export interface SessionServiceDeps {
  jwt: JwtCodec;
  revoked: RevokedSessions;
  rateLimits: Pick<RateLimits, 'beforeLogin' | 'beforeRefresh'>;
  settings: SessionSettings;
  /** Where rotations in flight are tracked, so that a stopping instance waits for them. */
  work: PendingWork;
}

export interface ClientInfo {
  /** The caller's address ('unknown' when the transport could not tell): rate limits count by it. */
  ip: string;
  userAgent: string | null;
}

export interface AuthPayloadShape {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt: Date;
  user: UserView;
}

export interface Authenticated {
  user: UserView;
  sessionId: string;
  claims: TokenClaims;
}

/** A checked access token whose user is only named, not loaded. */
export interface VerifiedAccess {
  user: Pick<UserEntity, 'id'>;
  sessionId: string;
  claims: TokenClaims;
}

export type RevokeReason = 'logout' | 'logout_all' | 'revoked_by_user' | 'refresh_token_reuse' | 'password_change' | 'password_reset';

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** The rules of sessions and their tokens; HTTP and WebSocket authentication both end up here. */
export class SessionService {
  private readonly users = new ActiveUsers();
  private readonly jwt: JwtCodec;
  private readonly revoked: RevokedSessions;
  private readonly rateLimits: SessionServiceDeps['rateLimits'];
  private readonly settings: SessionSettings;
  /** The rotations of one turn share a statement, one per session in each (rotateRefreshTokens). */
  private readonly rotations: TurnBatcher<RotationRequest, Rotation | null>;

  constructor({ jwt, revoked, rateLimits, settings, work }: SessionServiceDeps) {
    this.jwt = jwt;
    this.revoked = revoked;
    this.rateLimits = rateLimits;
    this.settings = settings;
    this.rotations = new TurnBatcher(
      {
        keyOf: (request: RotationRequest) => request.sessionId,
        run: (em, requests) => rotateRefreshTokens(em, settings.durableRotation, requests),
      },
      work,
    );
  }

  /**
   * Resolves an access token to its user and session, or fails with the token's code. The
   * revocation check is in memory, and so, for a few seconds after it was read, is the user:
   * `em` is called (and the request's EntityManager forked) only when something must be read.
   */
  async authenticate(em: () => EntityManager, accessToken: string, options: { allowExpired?: boolean } = {}): Promise<Authenticated> {
    const claims = this.liveAccessClaims(accessToken, options.allowExpired);
    // The in-memory set covers only sessions revoked within one access-token lifetime, which is
    // all an unexpired token needs; an expired one may be older than that.
    if (claims.exp * 1000 <= Date.now() && (await this.revokedInDatabase(em(), claims.sid))) throw tokenRevoked();
    const user = await this.users.load(em, claims.sub);
    if (!user?.isActive) throw invalidToken();
    return { user, sessionId: claims.sid, claims };
  }

  /** The checks of `authenticate`, for WebSocket connections, which keep only ids. */
  async verifyAccess(em: () => EntityManager, accessToken: string): Promise<VerifiedAccess> {
    const { user, sessionId, claims } = await this.authenticate(em, accessToken);
    return { user: { id: user.id }, sessionId, claims };
  }

  /** An access token's claims, if it is valid and its session was not revoked (no query). */
  private liveAccessClaims(accessToken: string, allowExpired = false): TokenClaims {
    const claims = this.jwt.verify(accessToken, 'access', { ignoreExpiration: allowExpired });
    if (this.revoked.has(claims.sid)) throw tokenRevoked();
    return claims;
  }

  private revokedInDatabase(em: EntityManager, sessionId: string): Promise<boolean> {
    return isSessionRevoked(em, sessionId);
  }

  /** When a valid access token expires; a stream opened with it must end then. */
  accessTokenExpiry(accessToken: string): Date {
    return new Date(this.liveAccessClaims(accessToken).exp * 1000);
  }

  /** Parses an `Authorization` header value; anything but `Bearer <token>` is INVALID_TOKEN. */
  bearerToken(header: string): string {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw invalidToken('The Authorization header must be "Bearer <accessToken>".');
    return match[1]!;
  }

  /** Login behind its rate limits: per IP for every attempt, per email for failures only. */
  async login(em: EntityManager, { email, password }: { email: string; password: string }, client: ClientInfo): Promise<AuthPayloadShape> {
    const normalized = email.trim().toLowerCase();
    const attempt = await this.rateLimits.beforeLogin(client.ip, normalized);
    return attempt.settle(this.checkedLogin(em, normalized, password, client));
  }

  private async checkedLogin(em: EntityManager, email: string, password: string, client: ClientInfo): Promise<AuthPayloadShape> {
    const user = email.length <= 254 ? await em.findOne(User, { email }, { populate: ['passwordHash'] }) : null;
    // verifyPassword hashes a dummy when there is no user, so both failures take as long.
    if (!(await verifyPassword(user?.passwordHash, password)) || !user) throw invalidCredentials();
    const verifiedHash = await upgradeLegacyPasswordHash(em, user.id, user.passwordHash, password);
    if (!user.isActive) throw accountInactive();
    return retryOnConflict(() =>
      em.transactional(async (tx) => {
        // The row lock orders this login against a password change: a change that committed
        // since the check makes this password stale; one that comes later waits for this
        // session and then revokes it with the others.
        if ((await lockPasswordHash(tx, user.id)) !== verifiedHash) throw invalidCredentials();
        return this.startSession(tx, user, client);
      }),
    );
  }

  /** Creates a session (its absolute expiry fixed now) and its first token pair. */
  async startSession(em: EntityManager, user: UserView, client: ClientInfo): Promise<AuthPayloadShape> {
    const session = em.create(Session, {
      user: user.id,
      expiresAt: new Date(Date.now() + this.settings.sessionMaxAge * 1000),
      userAgent: client.userAgent?.slice(0, 500) ?? null,
      ip: client.ip.slice(0, 64),
    });
    await em.flush();
    const row = await this.insertRefreshToken(em, session, null);
    return this.payload(row, user);
  }

  /**
   * Rotates a refresh token. One UPDATE decides the single winner among concurrent callers;
   * a loser within the grace window gets the winner's pair, any other reuse revokes the session.
   * Locks the session row before the token row, the order every revocation uses too, so a
   * refresh and a revocation queue behind each other instead of deadlocking.
   */
  async refresh(em: EntityManager, refreshToken: string, client: ClientInfo): Promise<AuthPayloadShape> {
    await this.rateLimits.beforeRefresh(client.ip);
    const claims = this.jwt.verify(refreshToken, 'refresh');
    // Read (usually from the cache) before claiming, so an inactive user's token stays unused.
    const user = await this.users.load(() => em, claims.sub);
    if (!user?.isActive) throw invalidToken();
    const now = Math.floor(Date.now() / 1000);
    const successor = { jti: randomUUID(), access_jti: randomUUID(), issued_at: new Date(now * 1000) };
    // One statement, its own transaction, where there were five round trips (begin, session,
    // token, successor, commit; `npm run bench -- --cpu-prof`, W3), shared by the rotations of
    // other sessions that arrive in the same turn; see rotateRefreshTokens.
    const rotated = await retryOnConflict(() =>
      this.rotations.run(em, {
        sessionId: claims.sid,
        jti: claims.jti,
        successorJti: successor.jti,
        successorAccessJti: successor.access_jti,
        now: new Date(),
        issuedAt: successor.issued_at,
        refreshExpiresAt: new Date((now + this.settings.refreshTokenTtl) * 1000),
        accessExpiresAt: new Date((now + this.settings.accessTokenTtl) * 1000),
      }),
    );
    if (!rotated) throw invalidToken();
    if (rotated.revoked) throw tokenRevoked();
    if (rotated.tokenExpiresAt && rotated.accessExpiresAt) {
      return this.payload({ ...successor, session_id: claims.sid, expires_at: rotated.tokenExpiresAt, access_expires_at: rotated.accessExpiresAt }, user);
    }
    const presented = await presentedRefreshToken(em, { jti: claims.jti, sessionId: claims.sid, graceSeconds: this.settings.reuseGraceSeconds });
    if (!presented) throw invalidToken();
    if (presented.revoked) throw tokenRevoked();
    // Unused and unrevoked, yet not claimed: only the session's end stopped it.
    if (!presented.used) throw tokenExpired();
    if (this.settings.reuseGraceSeconds > 0 && presented.inGrace && presented.successorJti) {
      const winner = await unusedRefreshToken(em, presented.successorJti);
      if (winner) return this.payload(winner, user);
    }
    await this.revokeSessions(em, claims.sub, [claims.sid], 'refresh_token_reuse');
    throw tokenRevoked();
  }

  /**
   * Ends the session of `refreshToken`, which must be the viewer's; an expired one still works,
   * and so does an expired access token for the viewer (an idle tab signs out in one request):
   * `viewer` is the caller of such a token, null without one.
   */
  async logout(em: EntityManager, viewer: UserView | null, refreshToken: string): Promise<void> {
    if (!viewer) throw unauthenticated();
    const claims = this.jwt.verify(refreshToken, 'refresh', { ignoreExpiration: true });
    if (claims.sub !== viewer.id) throw forbidden('This refresh token belongs to another user.');
    await this.revokeSessions(em, viewer.id, [claims.sid], 'logout');
  }

  async logoutAll(em: EntityManager, viewer: UserView): Promise<void> {
    await this.revokeSessions(em, viewer.id, null, 'logout_all');
  }

  /** Ends one of the viewer's sessions; someone else's session is NOT_FOUND, as if it did not exist. */
  async revokeSession(em: EntityManager, viewer: UserView, sessionId: string): Promise<void> {
    if (!isUuid(sessionId)) throw notFound('Session');
    const revoked = await this.revokeSessions(em, viewer.id, [sessionId], 'revoked_by_user');
    if (revoked.length === 0) {
      const exists = await em.count(Session, { id: sessionId, user: viewer.id });
      if (!exists) throw notFound('Session');
    }
  }

  /** The viewer's sessions that can still be refreshed, most recently used first. */
  async liveSessions(em: EntityManager, viewer: UserView): Promise<SessionEntity[]> {
    const refreshHorizon = new Date(Date.now() - this.settings.refreshTokenTtl * 1000);
    return em.find(
      Session,
      { user: viewer.id, revokedAt: null, expiresAt: { $gt: new Date() }, lastUsedAt: { $gt: refreshHorizon } },
      { orderBy: { lastUsedAt: 'desc', id: 'asc' } },
    );
  }

  /**
   * Revokes sessions (all of the user's when `sessionIds` is null) and their refresh tokens,
   * then tells every instance, which refuse their access tokens and close their sockets.
   * Returns the ids that this call revoked.
   */
  async revokeSessions(em: EntityManager, userId: string, sessionIds: string[] | null, reason: RevokeReason): Promise<string[]> {
    const revoked = await retryOnConflict(() => em.transactional((tx) => this.revokeInTransaction(tx, userId, sessionIds, reason)));
    this.announceRevoked(userId, revoked);
    return revoked;
  }

  /**
   * The database half of a revocation, for a caller that revokes inside a larger transaction
   * (a password change); it must call `announceRevoked` once that transaction has committed.
   * Session rows are locked first, then refresh tokens: the order `refresh` takes them in.
   */
  async revokeInTransaction(tx: EntityManager, userId: string, sessionIds: string[] | null, reason: RevokeReason): Promise<string[]> {
    const validIds = sessionIds?.filter(isUuid);
    if (validIds && validIds.length === 0) return [];
    return revokeSessionRows(tx, userId, validIds ?? null, reason);
  }

  /** Publishes committed revocations: every instance refuses their tokens and ends their streams. */
  announceRevoked(userId: string, sessionIds: string[]): void {
    this.users.forget(userId);
    this.revoked.publish({ userId, sessionIds });
  }

  /**
   * Checks the viewer's current password, for operations that need it again; returns the hash
   * it was checked against, so a change can be made only if it is still the current one.
   */
  async checkPassword(em: EntityManager, viewer: UserView, password: string): Promise<string> {
    const user = await em.findOne(User, viewer.id, { populate: ['passwordHash'] });
    if (!user) throw unauthenticated();
    if (!(await verifyPassword(user.passwordHash, password))) throw invalidCredentials();
    return user.passwordHash;
  }

  private async insertRefreshToken(
    em: EntityManager,
    session: Pick<SessionEntity, 'id' | 'expiresAt'>,
    parentJti: string | null,
    jti: string = randomUUID(),
  ): Promise<RefreshRow> {
    const now = Math.floor(Date.now() / 1000);
    const sessionEnd = seconds(session.expiresAt);
    const row: RefreshRow = {
      jti,
      access_jti: randomUUID(),
      session_id: session.id,
      issued_at: new Date(now * 1000),
      expires_at: new Date(Math.min(now + this.settings.refreshTokenTtl, sessionEnd) * 1000),
      access_expires_at: new Date(Math.min(now + this.settings.accessTokenTtl, sessionEnd) * 1000),
    };
    await recordRefreshToken(em, row, parentJti);
    return row;
  }

  /** Signs the pair recorded in `row`; the same row always gives the same two tokens. */
  private payload(row: RefreshRow, user: UserView): AuthPayloadShape {
    const common = { sub: user.id, sid: row.session_id, iat: seconds(row.issued_at) };
    return {
      accessToken: this.jwt.sign({ ...common, jti: row.access_jti, typ: 'access', exp: seconds(row.access_expires_at) }),
      refreshToken: this.jwt.sign({ ...common, jti: row.jti, typ: 'refresh', exp: seconds(row.expires_at) }),
      accessTokenExpiresAt: row.access_expires_at,
      refreshTokenExpiresAt: row.expires_at,
      user,
    };
  }
}
