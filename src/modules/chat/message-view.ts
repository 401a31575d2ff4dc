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

/** A `message` row as the driver returns it (`select *` or `returning *`). */
export interface MessageRow {
  id: string;
  conversation_id: string;
  sender_id: string;
  body: string;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

export const MESSAGE_COLUMNS = `"id", "conversation_id", "sender_id", "body", "created_at", "edited_at", "deleted_at"`;

export const messageFromRow = (row: MessageRow): MessageView => ({
  id: row.id,
  conversationId: row.conversation_id,
  senderId: row.sender_id,
  body: row.body,
  createdAt: new Date(row.created_at),
  editedAt: row.edited_at ? new Date(row.edited_at) : null,
  deletedAt: row.deleted_at ? new Date(row.deleted_at) : null,
});

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
