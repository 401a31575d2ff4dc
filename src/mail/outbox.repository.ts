import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRows, row, RowShapeError, run, type Column } from '../db/typed-sql.js';

/**
 * The raw SQL of the mail outbox: rows are claimed with SKIP LOCKED and a lease, so several
 * instances share the work, and cooldowns are one upsert, so concurrent requests on any
 * instance send at most one email.
 */

const addressRow = row({ address: col.text });

/** Records that `address` is mailed for `purpose` unless it was within `cooldownSeconds`; whether it recorded it. */
export async function claimCooldown(em: EntityManager, values: { address: string; purpose: string; cooldownSeconds: number }): Promise<boolean> {
  const claimed = await queryRows(
    em,
    addressRow,
    `insert into "email_cooldown" ("address", "purpose", "sent_at") values (:address, :purpose, now())
     on conflict ("address", "purpose") do update set "sent_at" = excluded."sent_at"
     where "email_cooldown"."sent_at" <= now() - make_interval(secs => :cooldownSeconds)
     returning "address"`,
    values,
  );
  return claimed.length > 0;
}

/** `jsonb` of string values (extra headers): the driver gives the parsed object. */
const stringRecord: Column<Record<string, string>> = (value, column) => {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string')) {
    return value as Record<string, string>;
  }
  throw new RowShapeError(column, 'an object of strings', value);
};

const claimedRow = row({
  id: col.uuid,
  kind: col.text,
  recipient: col.text,
  subject: col.text,
  text: col.text,
  html: col.text,
  headers: col.nullable(stringRecord),
  attempts: col.int,
});

export type ClaimedMail = ReturnType<typeof claimedRow>;

/**
 * Claims up to `batchSize` due emails for `leaseSeconds`, counting an attempt: other workers
 * skip them meanwhile, and pick them up again if this one dies.
 */
export function claimDueMail(em: EntityManager, values: { leaseSeconds: number; batchSize: number }): Promise<ClaimedMail[]> {
  return queryRows(
    em,
    claimedRow,
    `update "mail_outbox" set "next_attempt_at" = now() + make_interval(secs => :leaseSeconds), "attempts" = "attempts" + 1
     where "id" in (
       select "id" from "mail_outbox" where "sent_at" is null and "next_attempt_at" <= now()
       order by "next_attempt_at" limit :batchSize for update skip locked)
     returning "id", "kind", "recipient", "subject", "text", "html", "headers", "attempts"`,
    values,
  );
}

export async function markSent(em: EntityManager, id: string): Promise<void> {
  await run(em, `update "mail_outbox" set "sent_at" = now(), "last_error" = null where "id" = :id`, { id });
}

/** The mail failed: tried again after `backoffSeconds`. */
export async function scheduleRetry(em: EntityManager, values: { id: string; backoffSeconds: number; error: string }): Promise<void> {
  await run(em, `update "mail_outbox" set "next_attempt_at" = now() + make_interval(secs => :backoffSeconds), "last_error" = :error where "id" = :id`, values);
}

/** Back to the queue at once, its attempt not counted. */
export async function giveBackMail(em: EntityManager, values: { id: string; error: string }): Promise<void> {
  await run(em, `update "mail_outbox" set "next_attempt_at" = now(), "attempts" = greatest("attempts" - 1, 0), "last_error" = :error where "id" = :id`, values);
}
