import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRow, queryRows, row } from '../../db/typed-sql.js';

/** The raw SQL of user settings: a batch read, and an upsert that changes only what it is given. */

const settingsRow = row({ userId: col.uuid, emailOnUnreadMessages: col.bool, showPresence: col.bool });

export type SettingsRow = ReturnType<typeof settingsRow>;

const SETTINGS_COLUMNS = `"user_id" as "userId", "email_on_unread_messages" as "emailOnUnreadMessages", "show_presence" as "showPresence"`;

/** The settings rows of these users; a user who never changed a setting has none. */
export function settingsRows(em: EntityManager, userIds: readonly string[]): Promise<SettingsRow[]> {
  return queryRows(em, settingsRow, `select ${SETTINGS_COLUMNS} from "user_settings" where "user_id" = any(:userIds::uuid[])`, { userIds });
}

/**
 * Sets the settings that are not null and keeps the others (true by default), in one upsert:
 * two concurrent updates of different settings both stick.
 */
export function upsertSettings(
  em: EntityManager,
  values: { userId: string; emailOnUnreadMessages: boolean | null; showPresence: boolean | null },
): Promise<SettingsRow | null> {
  return queryRow(
    em,
    settingsRow,
    `insert into "user_settings" ("user_id", "email_on_unread_messages", "show_presence", "updated_at")
     values (:userId, coalesce(:emailOnUnreadMessages::boolean, true), coalesce(:showPresence::boolean, true), now())
     on conflict ("user_id") do update set
       "email_on_unread_messages" = coalesce(:emailOnUnreadMessages::boolean, "user_settings"."email_on_unread_messages"),
       "show_presence" = coalesce(:showPresence::boolean, "user_settings"."show_presence"),
       "updated_at" = now()
     returning ${SETTINGS_COLUMNS}`,
    values,
  );
}
