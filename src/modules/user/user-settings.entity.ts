import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from './user.entity.js';

/** A user's choices; no row means every default (both true). */
export const UserSettings = defineEntity({
  name: 'UserSettings',
  tableName: 'user_settings',
  properties: (p) => ({
    user: p.oneToOne(User).ref().primary().deleteRule('cascade').owner(),
    emailOnUnreadMessages: p.boolean().default(true),
    showPresence: p.boolean().default(true),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  }),
});

export type UserSettingsEntity = InferEntity<typeof UserSettings>;
