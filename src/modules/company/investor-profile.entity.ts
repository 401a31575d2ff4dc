import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';
import { Location } from './location.entity.js';

export const InvestorProfile = defineEntity({
  name: 'InvestorProfile',
  tableName: 'investor_profile',
  properties: (p) => ({
    id: p.uuid().primary().onCreate(() => randomUUID()),
    owner: p.oneToOne(User).ref().owner().unique().deleteRule('cascade'),
    companyName: p.string().length(200),
    website: p.string().length(2048),
    description: p.text().nullable(),
    location: p.manyToOne(Location).ref().nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

export type InvestorProfileEntity = InferEntity<typeof InvestorProfile>;
