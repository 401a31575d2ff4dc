import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';
import { Conversation } from './conversation.entity.js';

/**
 * A chat message. `createdAt` is set in the application with millisecond precision, so the
 * (createdAt, id) cursors handed to clients compare exactly with the stored values.
 */
export const Message = defineEntity({
  name: 'Message',
  tableName: 'message',
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    conversation: p.manyToOne(Conversation).ref().deleteRule('cascade'),
    sender: p.manyToOne(User).ref().deleteRule('cascade').index(),
    body: p.text(),
    createdAt: p.datetime().onCreate(() => new Date()),
    /** The last edit by the sender. */
    editedAt: p.datetime().nullable(),
    /** Set when the sender deleted it: the row stays as a tombstone (body "") to keep history positions. */
    deletedAt: p.datetime().nullable(),
  }),
  indexes: [
    {
      // History pages, the last message and unread counts all walk this index newest first.
      name: 'message_history_idx',
      expression: 'create index "message_history_idx" on "message" ("conversation_id", "created_at" desc, "id" desc)',
    },
    {
      // The unread-email scan walks messages in sending order past its watermark (notifications/).
      name: 'message_created_idx',
      expression: 'create index "message_created_idx" on "message" ("created_at", "id")',
    },
  ],
});

export type MessageEntity = InferEntity<typeof Message>;
