import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRow, queryRows, row, run } from '../../db/typed-sql.js';

/**
 * The raw SQL of notifications. The unread-email scan reads chat's tables (message,
 * conversation, read marks) but its statements live here, not in chat's repository: what makes a
 * message due for an email (the delay, the recipient's settings, the notices already sent) is
 * notification logic, and chat's hot path must not know about it.
 */

/**
 * How far the scan has examined messages, in their (created_at, id) order. The time stays the
 * text PostgreSQL sent: a Date would drop its microseconds, move the watermark back, and
 * examine a message twice.
 */
export interface Watermark {
  createdAt: string;
  messageId: string;
}

const watermarkRow = row<Watermark>({ createdAt: col.text, messageId: col.uuid });

export function readWatermark(em: EntityManager): Promise<Watermark | null> {
  return queryRow(em, watermarkRow, `select "scanned_created_at" as "createdAt", "scanned_message_id" as "messageId" from "unread_email_scan" where "id" = 1`);
}

/** The watermark, locked until the transaction ends; null while another instance scans. */
export function lockWatermark(tx: EntityManager): Promise<Watermark | null> {
  return queryRow(
    tx,
    watermarkRow,
    `select "scanned_created_at" as "createdAt", "scanned_message_id" as "messageId" from "unread_email_scan" where "id" = 1 for update skip locked`,
  );
}

export async function advanceWatermark(tx: EntityManager, watermark: Watermark): Promise<void> {
  await run(tx, `update "unread_email_scan" set "scanned_created_at" = :createdAt, "scanned_message_id" = :messageId where "id" = 1`, { ...watermark });
}

// Messages past the watermark whose delay is over, in sending order. The values are bound
// parameters, so PostgreSQL plans a range scan of message_created_idx ("created_at", "id") that
// stops at the first row past the delay.
const PAST_WATERMARK = `("m"."created_at", "m"."id") > (:createdAt::timestamptz, :messageId::uuid)
  and "m"."created_at" <= now() - make_interval(secs => :delaySeconds)`;

const dueCountRow = row({ due: col.int });

/** Messages past their delay that the scan has not examined yet, at most `cap`. */
export async function countDue(em: EntityManager, watermark: Watermark, delaySeconds: number, cap: number): Promise<number> {
  const counted = await queryRow(
    em,
    dueCountRow,
    `select count(*)::int as "due" from (
       select 1 from "message" "m" where ${PAST_WATERMARK} order by "m"."created_at", "m"."id" limit :cap) "d"`,
    { ...watermark, delaySeconds, cap },
  );
  return counted?.due ?? 0;
}

/** Whether any message is due: one index probe, no lock. */
export async function anyDue(em: EntityManager, watermark: Watermark, delaySeconds: number): Promise<boolean> {
  const probe = await queryRow(em, dueCountRow, `select 1 as "due" from "message" "m" where ${PAST_WATERMARK} order by "m"."created_at", "m"."id" limit 1`, {
    ...watermark,
    delaySeconds,
  });
  return probe !== null;
}

const dueRow = row({
  id: col.uuid,
  /** PostgreSQL's text, as in `Watermark`: the scan moves the watermark to it. */
  createdAt: col.text,
  conversationId: col.uuid,
  recipientId: col.uuid,
  recipientEmail: col.text,
  eligible: col.bool,
});

export type DueMessage = ReturnType<typeof dueRow>;

/**
 * The next `limit` due messages past the watermark, each with its recipient and whether it
 * calls for an email: still unread, the recipient wants these emails, and no email about this
 * conversation went out since the recipient last read it.
 */
export function dueMessages(tx: EntityManager, watermark: Watermark, delaySeconds: number, limit: number): Promise<DueMessage[]> {
  return queryRows(
    tx,
    dueRow,
    `with "due" as (
       select "m"."id", "m"."created_at", "m"."conversation_id", "m"."sender_id", "m"."deleted_at" from "message" "m"
       where ${PAST_WATERMARK}
       order by "m"."created_at", "m"."id" limit :limit)
     select "d"."id", "d"."created_at" as "createdAt", "d"."conversation_id" as "conversationId", "u"."id" as "recipientId", "u"."email" as "recipientEmail",
       ("u"."is_active"
        and "d"."deleted_at" is null
        and "d"."created_at" > coalesce("r"."last_read_at", '-infinity')
        and coalesce("s"."email_on_unread_messages", true)
        and ("n"."covered_up_to" is null or "n"."covered_up_to" <= coalesce("r"."last_read_at", '-infinity'))) as "eligible"
     from "due" "d"
     join "conversation" "c" on "c"."id" = "d"."conversation_id"
     join "user" "u" on "u"."id" = case when "c"."investor_id" = "d"."sender_id" then "c"."startup_id" else "c"."investor_id" end
     left join "conversation_read" "r" on "r"."user_id" = "u"."id" and "r"."conversation_id" = "d"."conversation_id"
     left join "user_settings" "s" on "s"."user_id" = "u"."id"
     left join "unread_email_notice" "n" on "n"."user_id" = "u"."id" and "n"."conversation_id" = "d"."conversation_id"
     order by "d"."created_at", "d"."id"`,
    { ...watermark, delaySeconds, limit },
  );
}

const summaryRow = row({
  unread: col.int,
  newestBody: col.text,
  /** PostgreSQL's text: the notice records exactly what it covered. */
  newestCreatedAt: col.text,
  senderCompany: col.nullable(col.text),
});

export type UnreadSummary = ReturnType<typeof summaryRow>;

/**
 * What the recipient has not read in the conversation (from the other participant, after their
 * read mark, not deleted, as Conversation.unreadCount counts): how many, and the newest one.
 * Null when nothing is unread.
 */
export function unreadSummary(tx: EntityManager, values: { conversationId: string; recipientId: string }): Promise<UnreadSummary | null> {
  return queryRow(
    tx,
    summaryRow,
    `select (count(*) over ())::int as "unread", "m"."body" as "newestBody", "m"."created_at" as "newestCreatedAt",
       coalesce(
         (select "company_name" from "startup_profile" where "owner_id" = "m"."sender_id"),
         (select "company_name" from "investor_profile" where "owner_id" = "m"."sender_id")) as "senderCompany"
     from "message" "m"
     where "m"."conversation_id" = :conversationId and "m"."sender_id" <> :recipientId and "m"."deleted_at" is null
       and "m"."created_at" > coalesce((select "last_read_at" from "conversation_read" where "user_id" = :recipientId and "conversation_id" = :conversationId), '-infinity')
     order by "m"."created_at" desc, "m"."id" desc
     limit 1`,
    values,
  );
}

/** Records that an email about the conversation went to the recipient, covering messages up to `coveredUpTo`. */
export async function recordUnreadEmailNotice(tx: EntityManager, values: { recipientId: string; conversationId: string; coveredUpTo: string }): Promise<void> {
  await run(
    tx,
    `insert into "unread_email_notice" ("user_id", "conversation_id", "covered_up_to", "queued_at") values (:recipientId, :conversationId, :coveredUpTo, now())
     on conflict ("user_id", "conversation_id") do update set "covered_up_to" = excluded."covered_up_to", "queued_at" = excluded."queued_at"`,
    values,
  );
}

const idRow = row({ id: col.uuid });

export async function userExists(em: EntityManager, userId: string): Promise<boolean> {
  return (await queryRow(em, idRow, 'select "id" from "user" where "id" = :userId', { userId })) !== null;
}
