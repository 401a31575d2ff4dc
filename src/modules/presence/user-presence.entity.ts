import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';

/**
 * When a user's last socket closed. Written only when a user goes offline: who is online lives
 * in memory or Redis, never in a table.
 */
export const UserPresence = defineEntity({
  name: 'UserPresence',
  tableName: 'user_presence',
  properties: (p) => ({
    user: p.oneToOne(User).ref().primary().deleteRule('cascade').owner(),
    lastSeenAt: p.datetime(),
  }),
});

export type UserPresenceEntity = InferEntity<typeof UserPresence>;
