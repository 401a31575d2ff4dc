import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';

export const EMAIL_TOKEN_PURPOSES = ['activation', 'password_reset'] as const;
export type EmailTokenPurpose = (typeof EMAIL_TOKEN_PURPOSES)[number];

/** Single-use emailed secrets; only their SHA-256 is stored. */
export const EmailToken = defineEntity({
  name: 'EmailToken',
  tableName: 'email_token',
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    user: p.manyToOne(User).ref().deleteRule('cascade'),
    purpose: p.enum([...EMAIL_TOKEN_PURPOSES]).nativeEnumName('email_token_purpose'),
    tokenHash: p.string().length(64).unique(),
    expiresAt: p.datetime().index(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  }),
  indexes: [{ properties: ['user', 'purpose'] }],
});

export type EmailTokenEntity = InferEntity<typeof EmailToken>;
