/**
 * A message as events carry it: plain JSON (events cross Redis), holding everything the usual
 * selection of a delivered message shows, so delivering it needs no query.
 */
export interface MessageRecord {
  id: string;
  conversationId: string;
  senderId: string;
  body: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

/** What happens in one conversation, in the order it is published (`chat:conversation:<id>`). */
export type ConversationEventPayload =
  | { kind: 'sent' | 'edited' | 'deleted'; message: MessageRecord }
  | { kind: 'typing'; conversationId: string; userId: string; typing: boolean }
  | { kind: 'read'; conversationId: string; userId: string; lastReadAt: string };

/** A new message in one of a user's conversations (`chat:inbox:<userId>`). */
export interface InboxEventPayload {
  message: MessageRecord;
}

/** The conversation events that carry a message. */
export type MessageEventPayload = Extract<ConversationEventPayload, { message: MessageRecord }>;
