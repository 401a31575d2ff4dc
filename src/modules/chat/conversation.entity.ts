import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';

/**
 * One investor and one startup talking. The pair is unique, so concurrent `startConversation`
 * calls for the same pair converge on one row. `lastActivityAt` (creation, then the newest
 * message) orders the inbox; each participant lists by their own column, hence two indexes.
 */
export const Conversation = defineEntity({
  name: 'Conversation',
  tableName: 'conversation',
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    investor: p.manyToOne(User).ref().deleteRule('cascade'),
    startup: p.manyToOne(User).ref().deleteRule('cascade'),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastActivityAt: p.datetime().onCreate(() => new Date()),
  }),
  uniques: [{ name: 'conversation_pair_unique', properties: ['investor', 'startup'] }],
  indexes: [
    {
      name: 'conversation_investor_activity_idx',
      expression: 'create index "conversation_investor_activity_idx" on "conversation" ("investor_id", "last_activity_at" desc, "id" desc)',
    },
    {
      name: 'conversation_startup_activity_idx',
      expression: 'create index "conversation_startup_activity_idx" on "conversation" ("startup_id", "last_activity_at" desc, "id" desc)',
    },
  ],
});

export type ConversationEntity = InferEntity<typeof Conversation>;
