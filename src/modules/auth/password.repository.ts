import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRow, row, run } from '../../db/typed-sql.js';

/**
 * The raw SQL of a user's password hash. A hash is replaced only over the one that was checked,
 * so a change made meanwhile wins, and a login reads it under a row lock to order itself
 * against a change.
 */

const hashRow = row({ passwordHash: col.text });

/** The user's password hash, share-locked until the transaction ends; null when there is no such user. */
export async function lockPasswordHash(em: EntityManager, userId: string): Promise<string | null> {
  const found = await queryRow(em, hashRow, `select "password_hash" as "passwordHash" from "user" where "id" = :userId for share`, { userId });
  return found?.passwordHash ?? null;
}

/** Sets a new password whatever the old one was (a reset by emailed token). */
export async function setPassword(em: EntityManager, userId: string, passwordHash: string): Promise<void> {
  await run(em, `update "user" set "password_hash" = :passwordHash, "password_changed_at" = now() where "id" = :userId`, { userId, passwordHash });
}

const idRow = row({ id: col.uuid });

/** Changes the password if its hash is still `checkedHash`; whether it did. */
export async function changePassword(em: EntityManager, values: { userId: string; checkedHash: string; passwordHash: string }): Promise<boolean> {
  const changed = await queryRow(
    em,
    idRow,
    `update "user" set "password_hash" = :passwordHash, "password_changed_at" = now() where "id" = :userId and "password_hash" = :checkedHash returning "id"`,
    values,
  );
  return changed !== null;
}

/**
 * Replaces hash `checkedHash` by another of the same password (not a change: `password_changed_at`
 * stays); whether it did.
 */
export async function rehashPassword(em: EntityManager, values: { userId: string; checkedHash: string; passwordHash: string }): Promise<boolean> {
  const replaced = await queryRow(
    em,
    idRow,
    `update "user" set "password_hash" = :passwordHash where "id" = :userId and "password_hash" = :checkedHash returning "id"`,
    values,
  );
  return replaced !== null;
}
