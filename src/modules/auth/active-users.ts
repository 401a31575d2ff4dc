import type { EntityManager } from '@mikro-orm/postgresql';
import type { UserView } from '../user/user.entity.js';
import { findUserView } from '../user/user.repository.js';

/** How long a user row read for authentication serves later requests of that user. */
export const ACTIVE_USER_CACHE_MS = 5_000;
const MAX_ENTRIES = 10_000;

/**
 * The users behind access tokens, as plain frozen values kept for a few seconds, so that a busy
 * client's requests neither read its row again (that read was half the SQL of a `me` query) nor
 * build an ORM entity each (`em.map` was 7 % of the CPU per chat message; `npm run bench`, W1
 * and W5). Safe to reuse because the API never changes what authentication looks at: a user
 * row changes only by activation (before any token exists) and by password changes, which
 * revoke sessions (those go through RevokedSessions, checked before this) and drop the entry
 * here too.
 */
export class ActiveUsers {
  private readonly users = new Map<string, { user: UserView; until: number }>();

  /** The user, from the cache when it is fresh; the EntityManager is used only to read a missing one. */
  async load(em: () => EntityManager, id: string): Promise<UserView | null> {
    const cached = this.users.get(id);
    if (cached && cached.until > Date.now()) return cached.user;
    const user = await findUserView(em(), id);
    this.users.delete(id);
    if (!user) return null;
    // Oldest first in a Map: dropping the first key keeps the memory bounded.
    if (this.users.size >= MAX_ENTRIES) this.users.delete(this.users.keys().next().value!);
    this.users.set(id, { user, until: Date.now() + ACTIVE_USER_CACHE_MS });
    return user;
  }

  forget(userId: string): void {
    this.users.delete(userId);
  }
}
