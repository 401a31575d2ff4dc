import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { forbidden, notFound } from '../../shared/errors.js';
import type { ConversationEventPayload, InboxEventPayload, MessageEventPayload } from '../../events/chat-events.js';
import { listenNow } from '../../events/listen-now.js';
import { TurnBatcher } from '../../db/turn-batcher.js';
import type { PendingWork } from '../../shared/pending-work.js';
import { decodeCursor, pageSize, toKeysetConnection, type PageArgs } from '../../shared/pagination.js';
import type { AppPubSub } from '../../events/pubsub.js';
import { CONTROL_CHARS, isUuid, parseInput } from '../../shared/validation.js';
import { User, type UserView } from '../user/user.entity.js';
import { Conversation, type ConversationEntity } from './conversation.entity.js';
import { listMessagePages, type HistoryArgs, type HistoryPage } from './message-history.js';
import { messageFromRecord, messageRecord, type MessageView } from './message-view.js';
import {
  findMessage,
  insertConversationIfAbsent,
  lastMessages,
  moveReadMark,
  peerReadMarks,
  storeMessages,
  tombstoneMessage,
  type MessageToStore,
  type StoredMessage,
  unreadCounts,
  updateMessageBody,
} from './chat.repository.js';

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

export interface ChatServiceDeps {
  pubsub: AppPubSub;
  /** Where message stores in flight are tracked, so that a stopping instance waits for them. */
  work: PendingWork;
  /** A sent message ends its sender's typing state there. */
  typing: { messageSent(conversationId: string, userId: string): void };
}

/** Participants, investor first. */
export const participantIds = (conversation: ConversationEntity): [string, string] => [conversation.investor.id, conversation.startup.id];

export const isParticipant = (conversation: ConversationEntity, user: UserView) => participantIds(conversation).includes(user.id);

const notParticipant = () => forbidden('Only the participants of a conversation can read it, write to it or subscribe to it.');

function assertParticipant(conversation: ConversationEntity, viewer: UserView): ConversationEntity {
  if (!isParticipant(conversation, viewer)) throw notParticipant();
  return conversation;
}

/**
 * The conversation `id` when the viewer takes part in it. An unknown id is NOT_FOUND, someone
 * else's conversation FORBIDDEN (API.md: non-participants get FORBIDDEN).
 */
export async function requireConversation(em: EntityManager, viewer: UserView, id: string): Promise<ConversationEntity> {
  const conversation = isUuid(id) ? await em.findOne(Conversation, id) : null;
  if (!conversation) throw notFound('Conversation');
  return assertParticipant(conversation, viewer);
}

const readEvent = (conversationId: string, userId: string, lastReadAt: Date): ConversationEventPayload => ({
  kind: 'read',
  conversationId,
  userId,
  lastReadAt: lastReadAt.toISOString(),
});

/** The message an event carries, as the API shows it. */
export const publishedMessage = (event: MessageEventPayload | InboxEventPayload): MessageView => messageFromRecord(event.message);

/**
 * Conversations between an investor and a startup, and their messages. Every change is published
 * only after its statement committed, so a subscriber never hears of something it cannot load.
 */
export class ChatService {
  private readonly pubsub: AppPubSub;
  private readonly typing: ChatServiceDeps['typing'];
  /** One statement for the sends of a turn, one message per conversation in each (DESIGN.md "Chat's hot path"). */
  private readonly writer: TurnBatcher<MessageToStore, StoredMessage | null>;

  constructor({ pubsub, typing, work }: ChatServiceDeps) {
    this.writer = new TurnBatcher({ keyOf: (message) => message.conversationId, run: storeMessages }, work);
    this.pubsub = pubsub;
    this.typing = typing;
  }

  /** Like `requireConversation`, but an unknown id is null: the `conversation(id)` query is nullable. */
  async conversation(em: EntityManager, viewer: UserView, id: string): Promise<ConversationEntity | null> {
    const conversation = isUuid(id) ? await em.findOne(Conversation, id) : null;
    return conversation ? assertParticipant(conversation, viewer) : null;
  }

  /** The viewer's conversations, most recent activity first. */
  async conversations(em: EntityManager, viewer: UserView, args: PageArgs) {
    const limit = pageSize(args.first);
    const after = decodeCursor(args.after);
    // A user has one role, so their conversations are all on one side: one index range scan,
    // then a sort of that user's rows (the activity is in no index; see Conversation).
    const side = viewer.role === 'INVESTOR' ? 'investor' : 'startup';
    const rows = await em.find(
      Conversation,
      {
        [side]: viewer.id,
        ...(after ? { $or: [{ lastActivityAt: { $lt: after.createdAt } }, { lastActivityAt: after.createdAt, id: { $lt: after.id } }] } : {}),
      },
      { orderBy: { lastActivityAt: 'desc', id: 'desc' }, limit: limit + 1 },
    );
    return toKeysetConnection(rows, limit, (conversation) => ({ createdAt: conversation.lastActivityAt, id: conversation.id }));
  }

  /**
   * Opens (or reopens) the conversation between the viewing investor and a startup user. The
   * unique pair decides concurrent calls: every caller ends up with the one row.
   */
  async start(em: EntityManager, viewer: UserView, userId: string): Promise<ConversationEntity> {
    if (viewer.role !== 'INVESTOR') throw forbidden('Only investors start conversations; a startup replies in one an investor started.');
    const other = isUuid(userId) ? await em.findOne(User, userId) : null;
    if (!other?.isActive) throw notFound('User');
    if (other.role !== 'STARTUP') throw forbidden('A conversation joins an investor and a startup.');
    await insertConversationIfAbsent(em, { id: randomUUID(), investorId: viewer.id, startupId: other.id, at: new Date() });
    return em.findOneOrFail(Conversation, { investor: viewer.id, startup: other.id });
  }

  /**
   * Stores a message, then tells the conversation's subscribers and both participants' inboxes.
   * Writing also marks the conversation read for the sender: a reply answers what came before.
   */
  async send(em: EntityManager, viewer: UserView, { conversationId, body }: { conversationId: string; body: string }): Promise<MessageView> {
    const input = parseInput(SendMessageInput, { body });
    if (!isUuid(conversationId)) throw notFound('Conversation');
    const stored = await this.writer.run(em, { id: randomUUID(), conversationId, senderId: viewer.id, body: input.body, createdAt: new Date() });
    if (!stored) throw notFound('Conversation');
    const { message } = stored;
    if (!message) throw notParticipant();
    const record = messageRecord(message);
    this.pubsub.publish('chat:conversation', message.conversationId, { kind: 'sent', message: record });
    for (const userId of [stored.investorId, stored.startupId]) this.pubsub.publish('chat:inbox', userId, { message: record });
    // Replying reads the other participant's messages: that is a read receipt they can see.
    if (stored.readPeerMessages && stored.readMark) {
      this.pubsub.publish('chat:conversation', message.conversationId, readEvent(message.conversationId, viewer.id, stored.readMark));
    }
    this.typing.messageSent(message.conversationId, viewer.id);
    return message;
  }

  /**
   * Edits one of the viewer's own messages. One statement when allowed; the refusals (unknown,
   * someone else's, deleted) cost a second look.
   */
  async edit(em: EntityManager, viewer: UserView, { messageId, body }: { messageId: string; body: string }): Promise<MessageView> {
    const input = parseInput(SendMessageInput, { body });
    if (!isUuid(messageId)) throw notFound('Message');
    const edited = await updateMessageBody(em, { messageId, senderId: viewer.id, body: input.body, editedAt: new Date() });
    if (!edited) {
      const existing = await findMessage(em, messageId);
      if (!existing) throw notFound('Message');
      if (existing.senderId !== viewer.id) throw forbidden('Only the sender edits a message.');
      throw forbidden('A deleted message cannot be edited.');
    }
    this.pubsub.publish('chat:conversation', edited.conversationId, { kind: 'edited', message: messageRecord(edited) });
    return edited;
  }

  /**
   * Deletes one of the viewer's own messages: it stays in history as a tombstone (body "",
   * deletedAt set), so cursors and positions hold, and it no longer counts as unread. Deleting
   * again returns the same tombstone and announces nothing.
   */
  async delete(em: EntityManager, viewer: UserView, messageId: string): Promise<MessageView> {
    if (!isUuid(messageId)) throw notFound('Message');
    const deleted = await tombstoneMessage(em, { messageId, senderId: viewer.id, deletedAt: new Date() });
    if (!deleted) {
      const existing = await findMessage(em, messageId);
      if (!existing) throw notFound('Message');
      if (existing.senderId !== viewer.id) throw forbidden('Only the sender deletes a message.');
      return existing;
    }
    this.pubsub.publish('chat:conversation', deleted.conversationId, { kind: 'deleted', message: messageRecord(deleted) });
    return deleted;
  }

  /**
   * Marks everything in the conversation as read by the viewer, up to its newest message (or the
   * conversation's start when it has none). The mark only moves forward, whatever order
   * concurrent calls commit in, and only a move is announced (`ReadEvent`).
   */
  async markRead(em: EntityManager, viewer: UserView, conversationId: string): Promise<ConversationEntity> {
    const conversation = await requireConversation(em, viewer, conversationId);
    const moved = await moveReadMark(em, { userId: viewer.id, conversationId: conversation.id, floor: conversation.createdAt });
    if (moved) this.pubsub.publish('chat:conversation', conversation.id, readEvent(conversation.id, viewer.id, moved));
    return conversation;
  }

  /** Checks that the viewer may follow the conversation, then listens to its new messages. */
  async subscribeToMessages(em: EntityManager, viewer: UserView, conversationId: string) {
    const conversation = await requireConversation(em, viewer, conversationId);
    return listenNow(this.pubsub.subscribe('chat:conversation', conversation.id), (event): event is MessageEventPayload => event.kind === 'sent');
  }

  /** Everything that happens in the conversation, but the viewer's own typing. */
  async subscribeToEvents(em: EntityManager, viewer: UserView, conversationId: string) {
    const conversation = await requireConversation(em, viewer, conversationId);
    return listenNow(this.pubsub.subscribe('chat:conversation', conversation.id), (event) => !(event.kind === 'typing' && event.userId === viewer.id));
  }

  subscribeToInbox(viewer: UserView) {
    return listenNow(this.pubsub.subscribe('chat:inbox', viewer.id));
  }

  // Loaders: batches of keys, answers in key order.

  /**
   * History pages of several conversations at once (see message-history.ts), for the viewer: a
   * conversation they do not take part in gets FORBIDDEN, the others their page.
   */
  async messagePages(em: EntityManager, viewer: UserView, conversations: readonly ConversationEntity[], args: HistoryArgs) {
    const readable = conversations.filter((conversation) => isParticipant(conversation, viewer));
    const pages = new Map<string, HistoryPage | Error>();
    const loaded = await listMessagePages(
      em,
      readable.map((conversation) => conversation.id),
      args,
    );
    readable.forEach((conversation, index) => pages.set(conversation.id, loaded[index]!));
    return conversations.map((conversation) => pages.get(conversation.id) ?? notParticipant());
  }

  /** The other participant's read mark per conversation (the viewer takes part in each). */
  async peerReadMarks(em: EntityManager, viewer: UserView, conversationIds: readonly string[]): Promise<(Date | null)[]> {
    if (conversationIds.length === 0) return [];
    const marks = new Map((await peerReadMarks(em, viewer.id, conversationIds)).map((mark) => [mark.conversationId, mark.lastReadAt]));
    return conversationIds.map((id) => marks.get(id) ?? null);
  }

  /** The newest message of each conversation. */
  async lastMessages(em: EntityManager, conversationIds: readonly string[]): Promise<MessageView[]> {
    return conversationIds.length === 0 ? [] : lastMessages(em, conversationIds);
  }

  /** The viewer's unread messages per conversation. */
  async unreadCounts(em: EntityManager, viewer: UserView, conversationIds: readonly string[]): Promise<number[]> {
    if (conversationIds.length === 0) return [];
    const counts = new Map((await unreadCounts(em, viewer.id, conversationIds)).map((row) => [row.conversationId, row.unread]));
    return conversationIds.map((id) => counts.get(id) ?? 0);
  }
}
