import type { MessageRecord } from '../../events/chat-events.js';

/**
 * A message as the API shows it: a plain row, the same whether it comes from a query or from an
 * event, so a delivered event needs no entity, EntityManager or query to be shown.
 */
export interface MessageView {
  id: string;
  conversationId: string;
  senderId: string;
  body: string;
  createdAt: Date;
  editedAt: Date | null;
  deletedAt: Date | null;
}

export const messageRecord = (message: MessageView): MessageRecord => ({
  id: message.id,
  conversationId: message.conversationId,
  senderId: message.senderId,
  body: message.body,
  createdAt: message.createdAt.toISOString(),
  editedAt: message.editedAt?.toISOString() ?? null,
  deletedAt: message.deletedAt?.toISOString() ?? null,
});

export const messageFromRecord = (record: MessageRecord): MessageView => ({
  ...record,
  createdAt: new Date(record.createdAt),
  editedAt: record.editedAt === null ? null : new Date(record.editedAt),
  deletedAt: record.deletedAt === null ? null : new Date(record.deletedAt),
});
