import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRows, row, run } from '../../db/typed-sql.js';

/**
 * The raw SQL of presence: who may see whose presence (the user themself and their
 * conversation partners, while the user shows it), and when an offline user was last seen.
 */

const visibilityRow = row({ id: col.uuid, visible: col.bool, lastSeenAt: col.nullable(col.timestamp) });

/** For each of `userIds`, whether `viewerId` may see their presence, and when they were last seen. */
export function presenceVisibility(em: EntityManager, viewerId: string, userIds: readonly string[]) {
  return queryRows(
    em,
    visibilityRow,
    `select v."id",
       coalesce(s."show_presence", true) and (
         v."id" = :viewerId
         or exists (select 1 from "conversation" c where c."investor_id" = :viewerId and c."startup_id" = v."id")
         or exists (select 1 from "conversation" c where c."startup_id" = :viewerId and c."investor_id" = v."id")
       ) as "visible",
       p."last_seen_at" as "lastSeenAt"
     from unnest(:userIds::uuid[]) as v("id")
     left join "user_settings" s on s."user_id" = v."id"
     left join "user_presence" p on p."user_id" = v."id"`,
    { viewerId, userIds },
  );
}

/** Records when the user was last seen, never moving it back (announcements may arrive out of order). */
export async function recordLastSeen(em: EntityManager, userId: string, lastSeenAt: Date): Promise<void> {
  await run(
    em,
    `insert into "user_presence" ("user_id", "last_seen_at") values (:userId, :lastSeenAt)
     on conflict ("user_id") do update set "last_seen_at" = greatest("user_presence"."last_seen_at", excluded."last_seen_at")`,
    { userId, lastSeenAt },
  );
}

const partnerRow = row({ partnerId: col.uuid });

/** The user's conversation partners, or none when the user hides their presence. */
export async function presencePartners(em: EntityManager, userId: string): Promise<string[]> {
  const partners = await queryRows(
    em,
    partnerRow,
    `select case when c."investor_id" = :userId then c."startup_id" else c."investor_id" end as "partnerId"
     from "conversation" c
     where (c."investor_id" = :userId or c."startup_id" = :userId)
       and coalesce((select s."show_presence" from "user_settings" s where s."user_id" = :userId), true)`,
    { userId },
  );
  return partners.map(({ partnerId }) => partnerId);
}
