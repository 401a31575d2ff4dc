import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRows, row } from '../../db/typed-sql.js';

/**
 * What is deleted, and when: nothing is removed while it can still matter. Refresh tokens and
 * sessions go once past their expiry (a revoked session also once its access tokens expired);
 * email tokens once expired or used; sent outbox mail after a week; stale cooldown rows.
 * In deletion order.
 */
const EXPIRED = {
  refresh_token: `"expires_at" < now()`,
  session: `"expires_at" < now() or "revoked_at" < now() - make_interval(secs => :revokedRetentionSeconds)`,
  email_token: `"expires_at" < now() or "used_at" < now() - interval '1 day'`,
  mail_outbox: `"sent_at" < now() - interval '7 days'`,
  email_cooldown: `"sent_at" < now() - interval '1 day'`,
} as const;

export type PurgedTable = keyof typeof EXPIRED;

export const PURGED_TABLES = Object.keys(EXPIRED) as PurgedTable[];

// By ctid and a limit, so that no statement holds its locks for long.
const deleteBatch = (table: PurgedTable) =>
  `with doomed as (select ctid from "${table}" where ${EXPIRED[table]} limit :batchSize)
   delete from "${table}" where ctid in (select ctid from doomed) returning 1 as n`;

const STATEMENTS = Object.fromEntries(PURGED_TABLES.map((table) => [table, deleteBatch(table)])) as Record<PurgedTable, string>;

const deletedRow = row({ n: col.int });

/** Deletes up to `batchSize` expired rows of `table`; how many it deleted. */
export async function deleteExpiredBatch(
  em: EntityManager,
  table: PurgedTable,
  values: { batchSize: number; revokedRetentionSeconds: number },
): Promise<number> {
  return (await queryRows(em, deletedRow, STATEMENTS[table], values)).length;
}
