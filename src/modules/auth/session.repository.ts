import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRow, queryRows, row, run } from '../../db/typed-sql.js';

/**
 * The raw SQL of sessions and refresh tokens: the statements where exactly one caller must win
 * (rotation) or where the order rows are locked in matters (revocation). Every statement that
 * locks both takes the session row before its token rows, so a refresh and a revocation queue
 * behind each other instead of deadlocking.
 */

/** A refresh-token row: the pair it records is signed again from it, so the same row gives the same tokens. */
export interface RefreshRow {
  jti: string;
  access_jti: string;
  session_id: string;
  issued_at: Date;
  expires_at: Date;
  access_expires_at: Date;
}

const refreshRow = row<RefreshRow>({
  jti: col.uuid,
  access_jti: col.uuid,
  session_id: col.uuid,
  issued_at: col.timestamp,
  expires_at: col.timestamp,
  access_expires_at: col.timestamp,
});

export async function recordRefreshToken(em: EntityManager, token: RefreshRow, parentJti: string | null): Promise<void> {
  await run(
    em,
    `insert into "refresh_token" ("jti", "access_jti", "session_id", "parent_jti", "issued_at", "expires_at", "access_expires_at")
     values (:jti, :accessJti, :sessionId, :parentJti, :issuedAt, :expiresAt, :accessExpiresAt)`,
    {
      jti: token.jti,
      accessJti: token.access_jti,
      sessionId: token.session_id,
      parentJti,
      issuedAt: token.issued_at,
      expiresAt: token.expires_at,
      accessExpiresAt: token.access_expires_at,
    },
  );
}

const rotationRow = row({
  revoked: col.bool,
  tokenExpiresAt: col.nullable(col.timestamp),
  accessExpiresAt: col.nullable(col.timestamp),
});

export type Rotation = ReturnType<typeof rotationRow>;

const ROTATE_DURABLY = `with "s" as (
       update "session" set "last_used_at" = case when "revoked_at" is null and "expires_at" > now() then :now::timestamptz else "last_used_at" end
       where "id" = :sessionId returning "expires_at", "revoked_at"
     ), "won" as (
       update "refresh_token" set "used_at" = now(), "successor_jti" = :successorJti
       where "jti" = :jti and "session_id" = :sessionId and "used_at" is null and "revoked_at" is null
         and exists (select 1 from "s" where "s"."revoked_at" is null and "s"."expires_at" > now())
       returning "session_id"
     ), "next" as (
       insert into "refresh_token" ("jti", "access_jti", "session_id", "parent_jti", "issued_at", "expires_at", "access_expires_at")
       select :successorJti, :successorAccessJti, "won"."session_id", :jti, :issuedAt::timestamptz,
         least(:refreshExpiresAt::timestamptz, date_trunc('second', "s"."expires_at")), least(:accessExpiresAt::timestamptz, date_trunc('second', "s"."expires_at"))
       from "won", "s"
       returning "expires_at", "access_expires_at"
     )
     select ("s"."revoked_at" is not null) as "revoked", "next"."expires_at" as "tokenExpiresAt", "next"."access_expires_at" as "accessExpiresAt"
     from "s" left join "next" on true`;

/** The same rotation, whose transaction commits without waiting for the WAL flush. */
const ROTATE = `${ROTATE_DURABLY}, (select set_config('synchronous_commit', 'off', true)) as "async_commit"`;

/**
 * Claims refresh token `jti` and inserts its successor, in one statement that is its own
 * transaction. "session" is read first and gates the claim as a one-time filter, so the session
 * row is locked before any token row: a revocation that committed first is seen here; one that
 * comes later waits and then revokes the successor too. An expired or revoked session claims
 * nothing. The successor never outlives its session. Null when the session does not exist;
 * expiries null when nothing was claimed.
 *
 * Unless `durable`, the rotation commits asynchronously (`synchronous_commit` off for this
 * transaction only: `set_config(…, true)`): its answer does not wait for the WAL flush, which
 * bounded the refreshes of concurrent chains (README Performance). What a crash of the database
 * can lose is the last fraction of a second of rotations: their clients then hold a successor
 * the database never kept and sign in again (INVALID_TOKEN), and the token they rotated is
 * unused again. Revocations, logins and password changes commit synchronously as before, and
 * since WAL is flushed in order, a revocation acknowledged after a rotation makes both durable.
 * Must not run inside a larger transaction, whose commit it would make asynchronous too.
 */
export function rotateRefreshToken(
  em: EntityManager,
  durable: boolean,
  values: {
    sessionId: string;
    jti: string;
    successorJti: string;
    successorAccessJti: string;
    now: Date;
    issuedAt: Date;
    refreshExpiresAt: Date;
    accessExpiresAt: Date;
  },
): Promise<Rotation | null> {
  return queryRow(em, rotationRow, durable ? ROTATE_DURABLY : ROTATE, values);
}

const presentedRow = row({
  used: col.bool,
  revoked: col.bool,
  /** Null when the token is unused. */
  inGrace: col.nullable(col.bool),
  successorJti: col.nullable(col.uuid),
});

/** What became of a refresh token that could not be claimed; null when the session has no such token. */
export function presentedRefreshToken(em: EntityManager, values: { jti: string; sessionId: string; graceSeconds: number }) {
  return queryRow(
    em,
    presentedRow,
    `select ("used_at" is not null) as "used", ("revoked_at" is not null) as "revoked",
       ("used_at" > now() - make_interval(secs => :graceSeconds)) as "inGrace", "successor_jti" as "successorJti"
     from "refresh_token" where "jti" = :jti and "session_id" = :sessionId`,
    values,
  );
}

/** A refresh token that is still neither used nor revoked. */
export function unusedRefreshToken(em: EntityManager, jti: string): Promise<RefreshRow | null> {
  return queryRow(
    em,
    refreshRow,
    `select "jti", "access_jti", "session_id", "issued_at", "expires_at", "access_expires_at" from "refresh_token"
     where "jti" = :jti and "used_at" is null and "revoked_at" is null`,
    { jti },
  );
}

const revokedRow = row({ revoked: col.bool });

/** Whether the session is revoked; a session that does not exist counts as revoked. */
export async function isSessionRevoked(em: EntityManager, sessionId: string): Promise<boolean> {
  const found = await queryRow(em, revokedRow, `select "revoked_at" is not null as "revoked" from "session" where "id" = :sessionId`, { sessionId });
  return !found || found.revoked;
}

const idRow = row({ id: col.uuid });

/**
 * Revokes the user's live sessions (only those of `sessionIds` unless it is null), then their
 * refresh tokens: session rows locked first, as `rotateRefreshToken` locks them. Returns the ids
 * this call revoked.
 */
export async function revokeSessionRows(em: EntityManager, userId: string, sessionIds: readonly string[] | null, reason: string): Promise<string[]> {
  const revoked = await queryRows(
    em,
    idRow,
    `update "session" set "revoked_at" = now(), "revoke_reason" = :reason
     where "user_id" = :userId and "revoked_at" is null ${sessionIds ? `and "id" = any(:sessionIds::uuid[])` : ''}
     returning "id"`,
    { reason, userId, sessionIds: sessionIds ?? [] },
  );
  const ids = revoked.map(({ id }) => id);
  if (ids.length > 0) {
    await run(em, `update "refresh_token" set "revoked_at" = now() where "revoked_at" is null and "session_id" = any(:ids::uuid[])`, { ids });
  }
  return ids;
}

const revokedSessionRow = row({ id: col.uuid, userId: col.uuid });

/** The sessions revoked within the last `windowSeconds`. */
export function recentlyRevokedSessions(em: EntityManager, windowSeconds: number) {
  return queryRows(
    em,
    revokedSessionRow,
    `select "id", "user_id" as "userId" from "session" where "revoked_at" > now() - make_interval(secs => :windowSeconds)`,
    { windowSeconds },
  );
}
