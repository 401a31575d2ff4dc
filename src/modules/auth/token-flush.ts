import type { EntityManager } from '@mikro-orm/postgresql';
import { deleteExpiredBatch, PURGED_TABLES } from './expired-rows.repository.js';

const BATCH = 1000;

/** Deletes expired rows (see expired-rows.repository.ts) in batches. Returns counts per table. */
export async function flushExpiredTokens(em: EntityManager, accessTokenTtlSeconds: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  // A revoked session's row must outlive its access tokens: new instances learn revocations from it.
  const retention = Math.max(86_400, Math.ceil(accessTokenTtlSeconds) + 60);
  for (const table of PURGED_TABLES) {
    counts[table] = 0;
    for (;;) {
      const deleted = await deleteExpiredBatch(em, table, { batchSize: BATCH, revokedRetentionSeconds: retention });
      counts[table] += deleted;
      if (deleted < BATCH) break;
    }
  }
  return counts;
}
