import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/db.js';

const BATCH = 1000;

/**
 * What is deleted, and when: nothing is removed while it can still matter. Refresh tokens and
 * sessions go once past their expiry (a revoked session also once its access tokens expired);
 * email tokens once expired or used; sent outbox mail after a week; stale cooldown rows.
 */
const purges = (revokedRetentionSeconds: number): Array<{ table: string; where: string }> => [
  { table: 'refresh_token', where: `"expires_at" < now()` },
  { table: 'session', where: `"expires_at" < now() or "revoked_at" < now() - make_interval(secs => ${revokedRetentionSeconds})` },
  { table: 'email_token', where: `"expires_at" < now() or "used_at" < now() - interval '1 day'` },
  { table: 'mail_outbox', where: `"sent_at" < now() - interval '7 days'` },
  { table: 'email_cooldown', where: `"sent_at" < now() - interval '1 day'` },
];

/** Deletes expired rows in batches, so no statement holds locks for long. Returns counts per table. */
export async function flushExpiredTokens(em: EntityManager, accessTokenTtlSeconds: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  // A revoked session's row must outlive its access tokens: new instances learn revocations from it.
  const retention = Math.max(86_400, Math.ceil(accessTokenTtlSeconds) + 60);
  for (const { table, where } of purges(retention)) {
    counts[table] = 0;
    for (;;) {
      const rows = await sql<{ n: number }[]>(
        em,
        `with doomed as (select ctid from "${table}" where ${where} limit ${BATCH})
         delete from "${table}" where ctid in (select ctid from doomed) returning 1 as n`,
      );
      counts[table] += rows.length;
      if (rows.length < BATCH) break;
    }
  }
  return counts;
}
