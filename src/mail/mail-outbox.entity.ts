import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** Emails are written here in the business transaction and delivered by the outbox worker. */
export const MailOutbox = defineEntity({
  name: 'MailOutbox',
  tableName: 'mail_outbox',
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    kind: p.string().length(50),
    recipient: p.string().length(254),
    subject: p.string().length(300),
    text: p.text(),
    html: p.text(),
    /** Extra headers (List-Unsubscribe on notification emails). */
    headers: p.json<Record<string, string>>().nullable(),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().onCreate(() => new Date()),
    sentAt: p.datetime().nullable(),
    lastError: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  }),
  indexes: [
    { name: 'mail_outbox_pending_idx', expression: 'create index "mail_outbox_pending_idx" on "mail_outbox" ("next_attempt_at") where "sent_at" is null' },
  ],
});

export type MailOutboxEntity = InferEntity<typeof MailOutbox>;
