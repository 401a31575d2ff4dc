import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { sql } from '../../db/db.js';
import { parseInput } from '../../shared/validation.js';
import type { UserEntity } from './user.entity.js';

export interface Settings {
  emailOnUnreadMessages: boolean;
  showPresence: boolean;
}

/** What a user without a settings row gets (API.md: both default to true). */
export const DEFAULT_SETTINGS: Readonly<Settings> = { emailOnUnreadMessages: true, showPresence: true };

const UpdateSettingsInput = z.object({
  emailOnUnreadMessages: z.boolean().nullish(),
  showPresence: z.boolean().nullish(),
});

interface SettingsRow {
  user_id: string;
  email_on_unread_messages: boolean;
  show_presence: boolean;
}

const toSettings = (row: SettingsRow | undefined): Settings =>
  row ? { emailOnUnreadMessages: row.email_on_unread_messages, showPresence: row.show_presence } : { ...DEFAULT_SETTINGS };

/** Users' choices about emails and presence. */
export class SettingsService {
  /** The settings of each user, in key order; one statement for the whole batch. */
  load(em: EntityManager, userIds: readonly string[]): Promise<Settings[]> {
    return loadSettings(em, userIds);
  }

  /**
   * Changes the given settings and keeps the others, in one upsert: two concurrent updates of
   * different settings both stick.
   */
  update(em: EntityManager, user: Pick<UserEntity, 'id'>, input: unknown): Promise<Settings> {
    return updateSettings(em, user.id, input);
  }
}

async function loadSettings(em: EntityManager, userIds: readonly string[]): Promise<Settings[]> {
  if (userIds.length === 0) return [];
  const rows = await sql<SettingsRow[]>(
    em,
    `select "user_id", "email_on_unread_messages", "show_presence" from "user_settings" where "user_id" in (${userIds.map(() => '?').join(', ')})`,
    [...userIds],
  );
  const byUser = new Map(rows.map((row) => [row.user_id, row]));
  return userIds.map((id) => toSettings(byUser.get(id)));
}

async function updateSettings(em: EntityManager, userId: string, input: unknown): Promise<Settings> {
  const changes = parseInput(UpdateSettingsInput, input);
  const email = changes.emailOnUnreadMessages ?? null;
  const presence = changes.showPresence ?? null;
  const [row] = await sql<SettingsRow[]>(
    em,
    `insert into "user_settings" ("user_id", "email_on_unread_messages", "show_presence", "updated_at")
     values (?, coalesce(?::boolean, true), coalesce(?::boolean, true), now())
     on conflict ("user_id") do update set
       "email_on_unread_messages" = coalesce(?::boolean, "user_settings"."email_on_unread_messages"),
       "show_presence" = coalesce(?::boolean, "user_settings"."show_presence"),
       "updated_at" = now()
     returning "user_id", "email_on_unread_messages", "show_presence"`,
    [userId, email, presence, email, presence],
  );
  return toSettings(row);
}
