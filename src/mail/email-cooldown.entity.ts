import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** Last time an address was mailed for a purpose; shared by every instance through the database. */
export const EmailCooldown = defineEntity({
  name: 'EmailCooldown',
  tableName: 'email_cooldown',
  properties: (p) => ({
    address: p.string().length(254).primary(),
    purpose: p.string().length(50).primary(),
    sentAt: p.datetime(),
  }),
  primaryKeys: ['address', 'purpose'],
});

export type EmailCooldownEntity = InferEntity<typeof EmailCooldown>;
