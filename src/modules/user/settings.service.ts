import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { parseInput } from '../../shared/validation.js';
import { settingsRows, upsertSettings, type SettingsRow } from './settings.repository.js';
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

const toSettings = (row: SettingsRow | null | undefined): Settings =>
  row ? { emailOnUnreadMessages: row.emailOnUnreadMessages, showPresence: row.showPresence } : { ...DEFAULT_SETTINGS };

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
  const rows = await settingsRows(em, userIds);
  const byUser = new Map(rows.map((row) => [row.userId, row]));
  return userIds.map((id) => toSettings(byUser.get(id)));
}

async function updateSettings(em: EntityManager, userId: string, input: unknown): Promise<Settings> {
  const changes = parseInput(UpdateSettingsInput, input);
  const row = await upsertSettings(em, {
    userId,
    emailOnUnreadMessages: changes.emailOnUnreadMessages ?? null,
    showPresence: changes.showPresence ?? null,
  });
  return toSettings(row);
}
