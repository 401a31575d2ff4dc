import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';
import { Conversation } from './conversation.entity.js';

/**
 * How far a participant has read a conversation: messages from the other participant created
 * after `lastReadAt` are unread. No row means nothing was read yet.
 */
export const ConversationRead = defineEntity({
  name: 'ConversationRead',
  tableName: 'conversation_read',
  properties: (p) => ({
    user: p.manyToOne(User).ref().primary().deleteRule('cascade'),
    conversation: p.manyToOne(Conversation).ref().primary().deleteRule('cascade'),
    lastReadAt: p.datetime(),
  }),
  primaryKeys: ['user', 'conversation'],
});

export type ConversationReadEntity = InferEntity<typeof ConversationRead>;
