import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Conversation } from '../chat/conversation.entity.js';
import { User } from '../user/user.entity.js';

/**
 * The last unread-messages email of a conversation to a user, covering its messages up to
 * `coveredUpTo`. While the user's read mark is older than that, no other email goes out.
 */
export const UnreadEmailNotice = defineEntity({
  name: 'UnreadEmailNotice',
  tableName: 'unread_email_notice',
  properties: (p) => ({
    user: p.manyToOne(User).ref().primary().deleteRule('cascade'),
    conversation: p.manyToOne(Conversation).ref().primary().deleteRule('cascade'),
    coveredUpTo: p.datetime(),
    queuedAt: p.datetime(),
  }),
  primaryKeys: ['user', 'conversation'],
});

export type UnreadEmailNoticeEntity = InferEntity<typeof UnreadEmailNotice>;

/** One row: the (createdAt, id) of the last message the due-email scan has examined. */
export const UnreadEmailScan = defineEntity({
  name: 'UnreadEmailScan',
  tableName: 'unread_email_scan',
  properties: (p) => ({
    // One row (id 1), made by the migration: no sequence.
    id: p.smallint().primary().autoincrement(false),
    scannedCreatedAt: p.datetime(),
    scannedMessageId: p.uuid(),
  }),
});

export type UnreadEmailScanEntity = InferEntity<typeof UnreadEmailScan>;
