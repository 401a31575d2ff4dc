import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/db.js';
import type { AppPubSub } from '../../events/pubsub.js';
import type { UserEntity } from '../user/user.entity.js';
import type { PresenceTracker } from './presence-tracker.js';

/** What the viewer may know of a user's presence; null when they may not know anything. */
export interface PresenceView {
  online: boolean;
  lastSeenAt: Date | null;
}

interface VisibilityRow {
  id: string;
  visible: boolean;
  last_seen_at: Date | null;
}

export interface PresenceServiceDeps {
  tracker: Pick<PresenceTracker, 'online'>;
  pubsub: AppPubSub;
}

/** Who is online, as each viewer may see it. */
export class PresenceService {
  constructor(private readonly deps: PresenceServiceDeps) {}

  /**
   * The presence of each user as `viewer` may see it, in key order: the user themself and their
   * conversation partners see it while the user shows presence; anyone else (and a caller
   * without a viewer) sees null. One statement and one store lookup for the whole batch.
   */
  load(em: EntityManager, viewer: Pick<UserEntity, 'id'> | null, userIds: readonly string[]): Promise<Array<PresenceView | null>> {
    return loadPresence(em, this.deps.tracker, viewer?.id ?? null, userIds);
  }

  /** PresenceEvents about the viewer's conversation partners (published by PresenceTracker). */
  subscribe(viewer: Pick<UserEntity, 'id'>) {
    return this.deps.pubsub.subscribe('presence:partner', viewer.id);
  }
}

async function loadPresence(
  em: EntityManager,
  tracker: Pick<PresenceTracker, 'online'>,
  viewerId: string | null,
  userIds: readonly string[],
): Promise<Array<PresenceView | null>> {
  if (!viewerId || userIds.length === 0) return userIds.map(() => null);
  const rows = await sql<VisibilityRow[]>(
    em,
    `select v."id",
       coalesce(s."show_presence", true) and (
         v."id" = ?
         or exists (select 1 from "conversation" c where c."investor_id" = ? and c."startup_id" = v."id")
         or exists (select 1 from "conversation" c where c."startup_id" = ? and c."investor_id" = v."id")
       ) as "visible",
       p."last_seen_at"
     from (values ${userIds.map(() => '(?::uuid)').join(', ')}) as v("id")
     left join "user_settings" s on s."user_id" = v."id"
     left join "user_presence" p on p."user_id" = v."id"`,
    [viewerId, viewerId, viewerId, ...userIds],
  );
  const visible = new Map(rows.filter((row) => row.visible).map((row) => [row.id, row]));
  const online = await tracker.online([...visible.keys()]);
  return userIds.map((id) => {
    const row = visible.get(id);
    if (!row) return null;
    return online.has(id) ? { online: true, lastSeenAt: null } : { online: false, lastSeenAt: row.last_seen_at ? new Date(row.last_seen_at) : null };
  });
}
