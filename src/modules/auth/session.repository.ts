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
  sessionId: col.uuid,
  revoked: col.bool,
  tokenExpiresAt: col.nullable(col.timestamp),
  accessExpiresAt: col.nullable(col.timestamp),
});

export type Rotation = Omit<ReturnType<typeof rotationRow>, 'sessionId'>;

/** One refresh token to claim and the successor to insert for it. */
export interface RotationRequest {
  sessionId: string;
  jti: string;
  successorJti: string;
  successorAccessJti: string;
  now: Date;
  issuedAt: Date;
  refreshExpiresAt: Date;
  accessExpiresAt: Date;
}

const ROTATE_DURABLY = `with "input" as (
       select * from unnest(:sessionIds::uuid[], :jtis::uuid[], :successorJtis::uuid[], :successorAccessJtis::uuid[],
         :nows::timestamptz[], :issuedAts::timestamptz[], :refreshExpiresAts::timestamptz[], :accessExpiresAts::timestamptz[])
         as i("session_id", "jti", "successor_jti", "successor_access_jti", "now", "issued_at", "refresh_expires_at", "access_expires_at")
     ), "locked" as (
       select "id" from "session" where "id" = any(:sessionIds::uuid[]) order by "id" for no key update
     ), "s" as (
       update "session" se set "last_used_at" = case when se."revoked_at" is null and se."expires_at" > now() then i."now" else se."last_used_at" end
       from "input" i join "locked" l on l."id" = i."session_id"
       where se."id" = l."id"
       returning se."id", se."expires_at", se."revoked_at"
     ), "won" as (
       update "refresh_token" rt set "used_at" = now(), "successor_jti" = i."successor_jti"
       from "input" i join "s" on "s"."id" = i."session_id"
       where rt."jti" = i."jti" and rt."session_id" = i."session_id" and rt."used_at" is null and rt."revoked_at" is null
         and "s"."revoked_at" is null and "s"."expires_at" > now()
       returning rt."session_id"
     ), "next" as (
       insert into "refresh_token" ("jti", "access_jti", "session_id", "parent_jti", "issued_at", "expires_at", "access_expires_at")
       select i."successor_jti", i."successor_access_jti", w."session_id", i."jti", i."issued_at",
         least(i."refresh_expires_at", date_trunc('second', "s"."expires_at")), least(i."access_expires_at", date_trunc('second', "s"."expires_at"))
       from "won" w join "input" i on i."session_id" = w."session_id" join "s" on "s"."id" = w."session_id"
       returning "session_id", "expires_at", "access_expires_at"
     )
     select "s"."id" as "sessionId", ("s"."revoked_at" is not null) as "revoked", n."expires_at" as "tokenExpiresAt", n."access_expires_at" as "accessExpiresAt"
     from "s" left join "next" n on n."session_id" = "s"."id"`;

/** The same rotations, whose transaction commits without waiting for the WAL flush. */
const ROTATE = `${ROTATE_DURABLY}, (select set_config('synchronous_commit', 'off', true)) as "async_commit"`;

/**
 * Claims each request's refresh token and inserts its successor, all in one statement that is
 * its own transaction; the requests name distinct sessions (the caller batches them per turn,
 * `TurnBatcher`). The session rows are locked first, in id order, as every revocation locks
 * them, before any token row: a revocation that committed first is seen here; one that comes
 * later waits and then revokes the successors too. An expired or revoked session claims nothing.
 * A successor never outlives its session. Rows of different sessions share nothing, so each
 * outcome is what a statement of its own would give. Outcomes in the order of `requests`: null
 * when the session does not exist; expiries null when nothing was claimed.
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
export async function rotateRefreshTokens(em: EntityManager, durable: boolean, requests: readonly RotationRequest[]): Promise<(Rotation | null)[]> {
  const iso = (pick: (request: RotationRequest) => Date) => requests.map((request) => pick(request).toISOString());
  const rows = await queryRows(em, rotationRow, durable ? ROTATE_DURABLY : ROTATE, {
    sessionIds: requests.map((request) => request.sessionId),
    jtis: requests.map((request) => request.jti),
    successorJtis: requests.map((request) => request.successorJti),
    successorAccessJtis: requests.map((request) => request.successorAccessJti),
    nows: iso((request) => request.now),
    issuedAts: iso((request) => request.issuedAt),
    refreshExpiresAts: iso((request) => request.refreshExpiresAt),
    accessExpiresAts: iso((request) => request.accessExpiresAt),
  });
  const bySession = new Map(rows.map(({ sessionId, ...rotation }) => [sessionId, rotation]));
  return requests.map((request) => bySession.get(request.sessionId) ?? null);
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
 * refresh tokens: session rows locked first and in id order, as `rotateRefreshTokens` locks them
 * (a batch of rotations may hold several of one user's sessions). Returns the ids this call revoked.
 */
export async function revokeSessionRows(em: EntityManager, userId: string, sessionIds: readonly string[] | null, reason: string): Promise<string[]> {
  const revoked = await queryRows(
    em,
    idRow,
    `update "session" set "revoked_at" = now(), "revoke_reason" = :reason
     where "id" in (
       select "id" from "session" where "user_id" = :userId and "revoked_at" is null ${sessionIds ? `and "id" = any(:sessionIds::uuid[])` : ''}
       order by "id" for no key update
     )
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
