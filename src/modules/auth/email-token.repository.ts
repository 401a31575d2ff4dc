import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRow, row } from '../../db/typed-sql.js';
import type { EmailTokenPurpose } from './email-token.entity.js';

/** The raw SQL of email tokens: consuming one is a single UPDATE that only one caller can win. */

const userIdRow = row({ userId: col.uuid });

/** Marks the usable token with this hash used; its user id, or null when no usable token has it. */
export async function consumeEmailTokenRow(em: EntityManager, tokenHash: string, purpose: EmailTokenPurpose): Promise<string | null> {
  const consumed = await queryRow(
    em,
    userIdRow,
    `update "email_token" set "used_at" = now()
     where "token_hash" = :tokenHash and "purpose" = :purpose and "used_at" is null and "expires_at" > now()
     returning "user_id" as "userId"`,
    { tokenHash, purpose },
  );
  return consumed?.userId ?? null;
}

/** Whether a token with this hash could be consumed now (unused, unexpired); consumes nothing. */
export async function isEmailTokenUsable(em: EntityManager, tokenHash: string, purpose: EmailTokenPurpose): Promise<boolean> {
  const usable = await queryRow(
    em,
    userIdRow,
    `select "user_id" as "userId" from "email_token" where "token_hash" = :tokenHash and "purpose" = :purpose and "used_at" is null and "expires_at" > now()`,
    { tokenHash, purpose },
  );
  return usable !== null;
}
