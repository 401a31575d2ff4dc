import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { sql } from '../../db.js';
import { forbidden, notFound } from '../../graphql/errors.js';
import { decodeCursor, pageSize, toHistoryConnection, toKeysetConnection } from '../../graphql/pagination.js';
import type { AppPubSub, ChatMessageEvent } from '../../graphql/pubsub.js';
import { CONTROL_CHARS, isUuid, parseInput } from '../../validation.js';
import { User, type UserEntity } from '../user/user.entity.js';
import { Conversation, type ConversationEntity } from './conversation.entity.js';
import { Message, type MessageEntity } from './message.entity.js';

export const MESSAGE_MAX_LENGTH = 4000;


/** Length in characters as people count them (an emoji is one), which is also PostgreSQL's. */
const characterCount = (value: string) => [...value].length;

const SendMessageInput = z.object({
  body: z
    .string()
    .trim()
    .refine((body) => body.length > 0, 'The message must not be empty.')
    .refine((body) => characterCount(body) <= MESSAGE_MAX_LENGTH, `The message must be at most ${MESSAGE_MAX_LENGTH} characters.`)
    .refine((body) => !CONTROL_CHARS.test(body), 'The message contains control characters.'),
});

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface HistoryArgs {
  first?: number | null;
  before?: string | null;
}

/** Participants, investor first. */
export const participantIds = (conversation: ConversationEntity): [string, string] => [conversation.investor.id, conversation.startup.id];

export const isParticipant = (conversation: ConversationEntity, user: UserEntity) => participantIds(conversation).includes(user.id);

function assertParticipant(conversation: ConversationEntity, viewer: UserEntity): ConversationEntity {
  if (!isParticipant(conversation, viewer)) throw forbidden('Only the participants of a conversation can read it, write to it or subscribe to it.');
  return conversation;
}

/**
 * The conversation `id` when the viewer takes part in it. An unknown id is NOT_FOUND, someone
 * else's conversation FORBIDDEN (API.md: non-participants get FORBIDDEN).
 */
export async function requireConversation(em: EntityManager, viewer: UserEntity, id: string): Promise<ConversationEntity> {
  const conversation = isUuid(id) ? await em.findOne(Conversation, id) : null;
  if (!conversation) throw notFound('Conversation');
  return assertParticipant(conversation, viewer);
}

/** Like `requireConversation`, but an unknown id is null: the `conversation(id)` query is nullable. */
export async function findConversation(em: EntityManager, viewer: UserEntity, id: string): Promise<ConversationEntity | null> {
  const conversation = isUuid(id) ? await em.findOne(Conversation, id) : null;
  return conversation ? assertParticipant(conversation, viewer) : null;
}

/**
 * Opens (or reopens) the conversation between the viewing investor and a startup user. The
 * unique pair decides concurrent calls: every caller ends up with the one row.
 */
export async function startConversation(em: EntityManager, viewer: UserEntity, userId: string): Promise<ConversationEntity> {
  if (viewer.role !== 'INVESTOR') throw forbidden('Only investors start conversations; a startup replies in one an investor started.');
  const other = isUuid(userId) ? await em.findOne(User, userId) : null;
  if (!other || !other.isActive) throw notFound('User');
  if (other.role !== 'STARTUP') throw forbidden('A conversation joins an investor and a startup.');
  const now = new Date();
  await sql(
    em,
    `insert into "conversation" ("id", "investor_id", "startup_id", "created_at", "last_activity_at")
     values (?, ?, ?, ?, ?) on conflict ("investor_id", "startup_id") do nothing`,
    [randomUUID(), viewer.id, other.id, now, now],
  );
  return em.findOneOrFail(Conversation, { investor: viewer.id, startup: other.id });
}

/** The viewer's conversations, most recent activity first. */
export async function listConversations(em: EntityManager, viewer: UserEntity, args: PageArgs) {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after);
  // A user has one role, so their conversations are all on one side: one index range scan.
  const side = viewer.role === 'INVESTOR' ? 'investor' : 'startup';
  const rows = await em.find(
    Conversation,
    {
      [side]: viewer.id,
      ...(after
        ? { $or: [{ lastActivityAt: { $lt: after.createdAt } }, { lastActivityAt: after.createdAt, id: { $lt: after.id } }] }
        : {}),
    },
    { orderBy: { lastActivityAt: 'desc', id: 'desc' }, limit: limit + 1 },
  );
  return toKeysetConnection(rows, limit, (conversation) => ({ createdAt: conversation.lastActivityAt, id: conversation.id }));
}

/**
 * Pages of history, newest first, older than `before`, for several conversations at once (the
 * same arguments for all): one statement whatever the number of conversations, so a document
 * that nests `messages` under many conversations costs one statement per `messages` field, not
 * one per conversation. A conversation the viewer is not part of gets FORBIDDEN.
 */
export async function listMessagePages(em: EntityManager, viewer: UserEntity, conversations: readonly ConversationEntity[], args: HistoryArgs) {
  const limit = pageSize(args.first);
  const before = decodeCursor(args.before, 'before');
  const readable = conversations.filter((conversation) => isParticipant(conversation, viewer)).map((conversation) => conversation.id);
  const rows = readable.length === 0 ? [] : await sql<Record<string, unknown>[]>(
    em,
    `select m.* from "conversation" c
     cross join lateral (
       select * from "message" where "conversation_id" = c."id"
       ${before ? `and ("created_at", "id") < (?, ?)` : ''}
       order by "created_at" desc, "id" desc limit ?
     ) m
     where c."id" in (${readable.map(() => '?').join(', ')})`,
    [...(before ? [before.createdAt, before.id] : []), limit + 1, ...readable],
  );
  const byConversation = new Map<string, MessageEntity[]>();
  for (const row of rows) {
    const message = em.map(Message, row);
    const list = byConversation.get(message.conversation.id) ?? [];
    list.push(message);
    byConversation.set(message.conversation.id, list);
  }
  return conversations.map((conversation) => {
    try {
      assertParticipant(conversation, viewer);
      return toHistoryConnection(byConversation.get(conversation.id) ?? [], limit, before !== null);
    } catch (error) {
      return error as Error;
    }
  });
}

/**
 * Stores a message, then tells its conversation's subscribers and both participants' inboxes.
 * Publishing only after the commit means a subscriber never hears of a message it cannot load.
 * Writing also marks the conversation read for the sender: a reply answers what came before.
 */
export async function sendMessage(em: EntityManager, pubsub: AppPubSub, viewer: UserEntity, conversationId: string, body: string): Promise<MessageEntity> {
  const input = parseInput(SendMessageInput, { body });
  const conversation = await requireConversation(em, viewer, conversationId);
  // One statement stores the message, moves the conversation's activity and the sender's read
  // mark: atomic without a transaction, and one round trip where there were five (`npm run
  // bench`, W5). Its sub-statements share one snapshot, so the read mark is taken to at least
  // this message explicitly (`greatest`), as markRead does.
  const createdAt = new Date();
  const [row] = await sql<Record<string, unknown>[]>(
    em,
    `with "stored" as (
       insert into "message" ("id", "conversation_id", "sender_id", "body", "created_at") values (?, ?, ?, ?, ?) returning *
     ), "activity" as (
       update "conversation" set "last_activity_at" = greatest("last_activity_at", ?) where "id" = ?
     ), "read_mark" as (
       ${MARK_READ_SQL}
     )
     select * from "stored"`,
    [randomUUID(), conversation.id, viewer.id, input.body, createdAt, createdAt, conversation.id, viewer.id, conversation.id, createdAt, conversation.id],
  );
  const message = em.map(Message, row!);
  const event: ChatMessageEvent = { messageId: message.id };
  pubsub.publish('chat:message', conversation.id, event);
  for (const userId of participantIds(conversation)) pubsub.publish('chat:inbox', userId, event);
  return message;
}

/** Marks everything in the conversation as read by the viewer, up to its newest message. */
export async function markConversationRead(em: EntityManager, viewer: UserEntity, conversationId: string): Promise<ConversationEntity> {
  const conversation = await requireConversation(em, viewer, conversationId);
  await markRead(em, viewer.id, conversation.id, conversation.createdAt);
  return conversation;
}

/** Parameters: user id, conversation id, the least mark, conversation id again. */
const MARK_READ_SQL = `insert into "conversation_read" ("user_id", "conversation_id", "last_read_at")
     select ?, ?, greatest(?::timestamptz, max("created_at")) from "message" where "conversation_id" = ?
     on conflict ("user_id", "conversation_id") do update set "last_read_at" = greatest("conversation_read"."last_read_at", excluded."last_read_at")`;

/**
 * Moves the user's read mark to the newest message stored so far, and to at least `atLeast`.
 * It only ever moves forward, whatever order concurrent calls commit in.
 */
async function markRead(em: EntityManager, userId: string, conversationId: string, atLeast: Date): Promise<void> {
  await sql(em, MARK_READ_SQL, [userId, conversationId, atLeast, conversationId]);
}

/** Checks that the viewer may follow the conversation, then listens to it. */
export async function subscribeToConversation(em: EntityManager, pubsub: AppPubSub, viewer: UserEntity, conversationId: string) {
  const conversation = await requireConversation(em, viewer, conversationId);
  return pubsub.subscribe('chat:message', conversation.id);
}

export const subscribeToInbox = (pubsub: AppPubSub, viewer: UserEntity) => pubsub.subscribe('chat:inbox', viewer.id);

/** The message an event names, for the subscriber's own (per-event) EntityManager. */
export const loadPublishedMessage = (em: EntityManager, event: ChatMessageEvent): Promise<MessageEntity> => em.findOneOrFail(Message, event.messageId);

/** The newest message of each conversation: one statement for a whole page, each an index probe. */
export async function loadLastMessages(em: EntityManager, conversationIds: readonly string[]): Promise<MessageEntity[]> {
  if (conversationIds.length === 0) return [];
  const rows = await sql<Record<string, unknown>[]>(
    em,
    `select m.* from "conversation" c
     cross join lateral (
       select * from "message" where "conversation_id" = c."id" order by "created_at" desc, "id" desc limit 1
     ) m
     where c."id" in (${conversationIds.map(() => '?').join(', ')})`,
    [...conversationIds],
  );
  return rows.map((row) => em.map(Message, row));
}

/** The viewer's unread messages (from the other participant, after their read mark) per conversation, in key order. */
export async function loadUnreadCounts(em: EntityManager, viewer: UserEntity, conversationIds: readonly string[]): Promise<number[]> {
  if (conversationIds.length === 0) return [];
  const rows = await sql<{ conversation_id: string; unread: number }[]>(
    em,
    `select m."conversation_id", count(*)::int as "unread"
     from "message" m
     left join "conversation_read" r on r."conversation_id" = m."conversation_id" and r."user_id" = ?
     where m."conversation_id" in (${conversationIds.map(() => '?').join(', ')})
       and m."sender_id" <> ? and (r."last_read_at" is null or m."created_at" > r."last_read_at")
     group by m."conversation_id"`,
    [viewer.id, ...conversationIds, viewer.id],
  );
  const counts = new Map(rows.map((row) => [row.conversation_id, Number(row.unread)]));
  return conversationIds.map((id) => counts.get(id) ?? 0);
}
