import type { EntityManager } from '@mikro-orm/postgresql';
import { col, queryRow, queryRows, row, run, type RowParser } from '../../db/typed-sql.js';
import type { KeysetCursor } from '../../shared/pagination.js';
import type { MessageView } from './message-view.js';

/**
 * Chat's raw SQL: the statements that must be one round trip or must win a race, which the ORM
 * cannot say in one statement. Each declares its rows; the service keeps the rules.
 */

/** A `message` row named as the API names its fields, so a parsed row is a `MessageView`. */
const MESSAGE_COLUMNS = `"id", "conversation_id" as "conversationId", "sender_id" as "senderId", "body",
  "created_at" as "createdAt", "edited_at" as "editedAt", "deleted_at" as "deletedAt"`;

const messageRow = row<MessageView>({
  id: col.uuid,
  conversationId: col.uuid,
  senderId: col.uuid,
  body: col.text,
  createdAt: col.timestamp,
  editedAt: col.nullable(col.timestamp),
  deletedAt: col.nullable(col.timestamp),
});

/** Opens the pair's conversation unless it exists; the unique pair decides concurrent calls. */
export async function insertConversationIfAbsent(em: EntityManager, values: { id: string; investorId: string; startupId: string; at: Date }): Promise<void> {
  await run(
    em,
    `insert into "conversation" ("id", "investor_id", "startup_id", "created_at", "last_activity_at")
     values (:id, :investorId, :startupId, :at, :at) on conflict ("investor_id", "startup_id") do nothing`,
    values,
  );
}

const sendOutcome = row({
  investorId: col.uuid,
  startupId: col.uuid,
  allowed: col.bool,
  readMark: col.nullable(col.timestamp),
  readPeerMessages: col.bool,
});

/** What storing a message tells: the participants, the stored message, and the sender's read mark. */
export type StoredMessage = ReturnType<typeof sendOutcome> & { message: MessageView | null };

// The message columns are null (left join) when the sender may not write there.
const storedMessage: RowParser<StoredMessage> = (raw) => ({ ...sendOutcome(raw), message: raw.allowed === true ? messageRow(raw) : null });

export interface MessageToStore {
  id: string;
  conversationId: string;
  senderId: string;
  body: string;
  createdAt: Date;
}

const storedInBatch: RowParser<StoredMessage & { inputId: string }> = (raw) => ({ ...storedMessage(raw), inputId: col.uuid(raw.inputId, 'inputId') });

/**
 * Stores messages in one round trip and one commit (DESIGN.md "Chat's hot path"), each in a
 * different conversation: per message the participation check, the insert, the conversation's
 * activity and the sender's read mark. Rows of different conversations share nothing (read
 * marks, activity and the peer-message check are all per conversation), so each outcome is what
 * a statement of its own would give. The sub-statements share one snapshot, so a read mark is
 * taken to at least its message explicitly (`greatest`), as `moveReadMark` does, and
 * `readPeerMessages` sees the mark as it was before. The conversations are locked first, in id
 * order, so two batches that share conversations (from two instances) queue instead of
 * deadlocking. The outcomes come back in the order of `messages`: null where the conversation
 * does not exist, `message` null where the sender does not take part in it.
 */
export async function storeMessages(em: EntityManager, messages: readonly MessageToStore[]): Promise<(StoredMessage | null)[]> {
  const rows = await queryRows(
    em,
    storedInBatch,
    `with "locked" as (
       select "id", "investor_id", "startup_id" from "conversation" where "id" = any(:conversationIds::uuid[]) order by "id" for no key update
     ), "target" as (
       select i."id" as "input_id", i."conversation_id", i."sender_id", i."body", i."created_at", c."investor_id", c."startup_id",
         i."sender_id" in (c."investor_id", c."startup_id") as "allowed"
       from unnest(:ids::uuid[], :conversationIds::uuid[], :senderIds::uuid[], :bodies::text[], :createdAts::timestamptz[])
         as i("id", "conversation_id", "sender_id", "body", "created_at")
       join "locked" c on c."id" = i."conversation_id"
     ), "previous_mark" as (
       select t."conversation_id", r."last_read_at" from "target" t
       join "conversation_read" r on r."user_id" = t."sender_id" and r."conversation_id" = t."conversation_id"
     ), "stored" as (
       insert into "message" ("id", "conversation_id", "sender_id", "body", "created_at")
       select "input_id", "conversation_id", "sender_id", "body", "created_at" from "target" where "allowed"
       returning ${MESSAGE_COLUMNS}
     ), "activity" as (
       update "conversation" c set "last_activity_at" = greatest(c."last_activity_at", s."createdAt") from "stored" s where c."id" = s."conversationId"
     ), "read_mark" as (
       insert into "conversation_read" ("user_id", "conversation_id", "last_read_at")
       select s."senderId", s."conversationId", greatest(s."createdAt", (select max("created_at") from "message" where "conversation_id" = s."conversationId")) from "stored" s
       on conflict ("user_id", "conversation_id") do update set "last_read_at" = greatest("conversation_read"."last_read_at", excluded."last_read_at")
       returning "conversation_id", "last_read_at"
     )
     select t."input_id" as "inputId", t."investor_id" as "investorId", t."startup_id" as "startupId", t."allowed", s.*, rm."last_read_at" as "readMark",
       exists (
         select 1 from "message" m where m."conversation_id" = t."conversation_id" and m."sender_id" <> t."sender_id" and m."deleted_at" is null
           and m."created_at" > coalesce(pm."last_read_at", '-infinity')
       ) as "readPeerMessages"
     from "target" t
     left join "stored" s on s."id" = t."input_id"
     left join "read_mark" rm on rm."conversation_id" = t."conversation_id"
     left join "previous_mark" pm on pm."conversation_id" = t."conversation_id"`,
    {
      ids: messages.map((message) => message.id),
      conversationIds: messages.map((message) => message.conversationId),
      senderIds: messages.map((message) => message.senderId),
      bodies: messages.map((message) => message.body),
      createdAts: messages.map((message) => message.createdAt.toISOString()),
    },
  );
  const byInput = new Map(rows.map(({ inputId, ...outcome }) => [inputId, outcome]));
  return messages.map((message) => byInput.get(message.id) ?? null);
}

/** Replaces the body of the sender's message unless it is deleted; null when nothing matched. */
export function updateMessageBody(
  em: EntityManager,
  values: { messageId: string; senderId: string; body: string; editedAt: Date },
): Promise<MessageView | null> {
  return queryRow(
    em,
    messageRow,
    `update "message" set "body" = :body, "edited_at" = :editedAt
     where "id" = :messageId and "sender_id" = :senderId and "deleted_at" is null returning ${MESSAGE_COLUMNS}`,
    values,
  );
}

/** Turns the sender's message into a tombstone (body "", deletedAt) unless it is one; null when nothing matched. */
export function tombstoneMessage(em: EntityManager, values: { messageId: string; senderId: string; deletedAt: Date }): Promise<MessageView | null> {
  return queryRow(
    em,
    messageRow,
    `update "message" set "body" = '', "deleted_at" = :deletedAt
     where "id" = :messageId and "sender_id" = :senderId and "deleted_at" is null returning ${MESSAGE_COLUMNS}`,
    values,
  );
}

export function findMessage(em: EntityManager, id: string): Promise<MessageView | null> {
  return queryRow(em, messageRow, `select ${MESSAGE_COLUMNS} from "message" where "id" = :id`, { id });
}

const readMarkRow = row({ lastReadAt: col.timestamp });

/**
 * Moves the user's read mark to the conversation's newest message (or `floor` when it has none),
 * only forward whatever order concurrent calls commit in; the new mark when it moved, else null.
 */
export async function moveReadMark(em: EntityManager, values: { userId: string; conversationId: string; floor: Date }): Promise<Date | null> {
  const moved = await queryRow(
    em,
    readMarkRow,
    `insert into "conversation_read" ("user_id", "conversation_id", "last_read_at")
     select :userId, :conversationId, greatest(:floor::timestamptz, max("created_at")) from "message" where "conversation_id" = :conversationId
     on conflict ("user_id", "conversation_id") do update set "last_read_at" = excluded."last_read_at"
       where "conversation_read"."last_read_at" < excluded."last_read_at"
     returning "last_read_at" as "lastReadAt"`,
    values,
  );
  return moved?.lastReadAt ?? null;
}

const peerMarkRow = row({ conversationId: col.uuid, lastReadAt: col.timestamp });

/** The read marks of everyone but `userId` in the conversations. */
export function peerReadMarks(em: EntityManager, userId: string, conversationIds: readonly string[]) {
  return queryRows(
    em,
    peerMarkRow,
    `select "conversation_id" as "conversationId", "last_read_at" as "lastReadAt" from "conversation_read"
     where "conversation_id" = any(:conversationIds::uuid[]) and "user_id" <> :userId`,
    { userId, conversationIds },
  );
}

/** The newest message of each conversation: one statement for a whole page, each an index probe. */
export function lastMessages(em: EntityManager, conversationIds: readonly string[]): Promise<MessageView[]> {
  return queryRows(
    em,
    messageRow,
    `select m.* from "conversation" c
     cross join lateral (
       select ${MESSAGE_COLUMNS} from "message" where "conversation_id" = c."id" order by "created_at" desc, "id" desc limit 1
     ) m
     where c."id" = any(:conversationIds::uuid[])`,
    { conversationIds },
  );
}

const unreadRow = row({ conversationId: col.uuid, unread: col.int });

/** Per conversation with any, the messages `userId` has not read: not deleted, from the other participant, after their read mark. */
export function unreadCounts(em: EntityManager, userId: string, conversationIds: readonly string[]) {
  return queryRows(
    em,
    unreadRow,
    `select m."conversation_id" as "conversationId", count(*)::int as "unread"
     from "message" m
     left join "conversation_read" r on r."conversation_id" = m."conversation_id" and r."user_id" = :userId
     where m."conversation_id" = any(:conversationIds::uuid[])
       and m."sender_id" <> :userId and m."deleted_at" is null and (r."last_read_at" is null or m."created_at" > r."last_read_at")
     group by m."conversation_id"`,
    { userId, conversationIds },
  );
}

const conversationIdRow = row({ conversationId: col.uuid });

/** The conversation of the message at exactly this position, or null when no message is there. */
export async function conversationOfMessageAt(em: EntityManager, position: KeysetCursor): Promise<string | null> {
  const found = await queryRow(
    em,
    conversationIdRow,
    `select "conversation_id" as "conversationId" from "message" where "id" = :id::uuid and "created_at" = :createdAt`,
    { id: position.id, createdAt: position.createdAt },
  );
  return found?.conversationId ?? null;
}

export interface HistoryWindow {
  after: KeysetCursor | null;
  before: KeysetCursor | null;
  /** Oldest first from `after` when true, else newest first from `before`. */
  forward: boolean;
  limit: number;
}

/** Up to `limit` messages of each conversation inside the window, in the window's direction. */
export function messageWindows(em: EntityManager, conversationIds: readonly string[], window: HistoryWindow): Promise<MessageView[]> {
  const { after, before, forward, limit } = window;
  const direction = forward ? 'asc' : 'desc';
  return queryRows(
    em,
    messageRow,
    `select m.* from "conversation" c
     cross join lateral (
       select ${MESSAGE_COLUMNS} from "message" where "conversation_id" = c."id"
         ${after ? `and ("created_at", "id") > (:afterAt::timestamptz, :afterId::uuid)` : ''}
         ${before ? `and ("created_at", "id") < (:beforeAt::timestamptz, :beforeId::uuid)` : ''}
       order by "created_at" ${direction}, "id" ${direction} limit :limit
     ) m
     where c."id" = any(:conversationIds::uuid[])`,
    {
      conversationIds,
      limit,
      afterAt: after?.createdAt ?? null,
      afterId: after?.id ?? null,
      beforeAt: before?.createdAt ?? null,
      beforeId: before?.id ?? null,
    },
  );
}
