import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/db.js';
import { User, type UserEntity } from '../user/user.entity.js';

/** How long a user row read for authentication serves later requests of that user. */
export const ACTIVE_USER_CACHE_MS = 5_000;
const MAX_ENTRIES = 10_000;

type UserRow = Record<string, unknown>;

/**
 * The users behind access tokens, kept for a few seconds so that a busy client's requests do
 * not each read its row again (that read was half the SQL of a `me` query; `npm run bench`, W1).
 * Safe to reuse because the API never changes what authentication looks at: a user row changes
 * only by activation (before any token exists) and by password changes, which revoke sessions
 * (those go through RevokedSessions, checked before this) and drop the entry here too. Every
 * request still gets its own entity, mapped into its own EntityManager.
 */
export class ActiveUsers {
  private readonly rows = new Map<string, { row: UserRow; until: number }>();
  private columns: string | undefined;

  async load(em: EntityManager, id: string): Promise<UserEntity | null> {
    const row = await this.row(em, id);
    return row ? em.map(User, row) : null;
  }

  /** Whether the user exists and is active, without building an entity (sockets keep ids only). */
  async isActive(em: EntityManager, id: string): Promise<boolean> {
    return (await this.row(em, id))?.is_active === true;
  }

  forget(userId: string): void {
    this.rows.delete(userId);
  }

  private async row(em: EntityManager, id: string): Promise<UserRow | null> {
    const cached = this.rows.get(id);
    if (cached && cached.until > Date.now()) return cached.row;
    const [row] = await sql<UserRow[]>(em, `select ${this.selectList(em)} from "user" where "id" = ?`, [id]);
    this.rows.delete(id);
    if (!row) return null;
    // Oldest first in a Map: dropping the first key keeps the memory bounded.
    if (this.rows.size >= MAX_ENTRIES) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(id, { row, until: Date.now() + ACTIVE_USER_CACHE_MS });
    return row;
  }

  /** The columns an entity loads by default (lazy ones, the password hash, left out), from the metadata. */
  private selectList(em: EntityManager): string {
    this.columns ??= em
      .getMetadata()
      .get(User)
      .props.filter((prop) => !prop.lazy && prop.fieldNames?.length)
      .flatMap((prop) => prop.fieldNames.map((name) => `"${name}"`))
      .join(', ');
    return this.columns;
  }
}
