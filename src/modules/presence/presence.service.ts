import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppPubSub } from '../../events/pubsub.js';
import type { UserEntity } from '../user/user.entity.js';
import { presenceVisibility } from './presence.repository.js';
import type { PresenceTracker } from './presence-tracker.js';

/** What the viewer may know of a user's presence; null when they may not know anything. */
export interface PresenceView {
  online: boolean;
  lastSeenAt: Date | null;
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
  const rows = await presenceVisibility(em, viewerId, userIds);
  const visible = new Map(rows.filter((row) => row.visible).map((row) => [row.id, row]));
  const online = await tracker.online([...visible.keys()]);
  return userIds.map((id) => {
    const row = visible.get(id);
    if (!row) return null;
    return online.has(id) ? { online: true, lastSeenAt: null } : { online: false, lastSeenAt: row.lastSeenAt };
  });
}
