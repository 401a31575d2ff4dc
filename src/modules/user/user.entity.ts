import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';

export const ROLES = ['STARTUP', 'INVESTOR'] as const;
export type Role = (typeof ROLES)[number];

export const User = defineEntity({
  name: 'User',
  tableName: 'user',
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    email: p.string().length(254).unique(),
    passwordHash: p.string().lazy().hidden(),
    role: p.enum([...ROLES]).nativeEnumName('user_role'),
    firstName: p.string().length(100).nullable(),
    lastName: p.string().length(100).nullable(),
    isActive: p.boolean().default(false),
    activatedAt: p.datetime().nullable(),
    passwordChangedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  }),
});

export type UserEntity = InferEntity<typeof User>;

/**
 * A user as the API shows it, as a plain value: the caller that authentication resolves (from a
 * few seconds' cache, without building an entity per request) and hands to services, and what
 * the GraphQL `User` type reads. Entities satisfy it, so loaded users are shown the same way.
 */
export type UserView = Readonly<Pick<UserEntity, 'id' | 'email' | 'role' | 'firstName' | 'lastName' | 'isActive' | 'createdAt'>>;
