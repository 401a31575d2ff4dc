import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';

/**
 * One investor and one startup talking. The pair is unique, so concurrent `startConversation`
 * calls for the same pair converge on one row. `lastActivityAt` (creation, then the newest
 * message) orders the inbox. It is in no index on purpose: every message updates it, and while
 * it was indexed (per participant, for the inbox's order) each of those updates wrote a new entry
 * into every index of the table; unindexed, the update is a HOT update (heap only), with room
 * kept for it in each page (`fillfactor = 50`, set by the migration: MikroORM does not model
 * it): see README Performance, Round 7, for what that saves per message. The inbox finds a
 * user's conversations through the pair's unique index (investor) or the startup index and sorts
 * them by activity: one user's conversations, not the table.
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
  indexes: [{ properties: ['startup'] }],
});

export type ConversationEntity = InferEntity<typeof Conversation>;
