import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';
import { Industry } from './industry.entity.js';
import { Location } from './location.entity.js';

export const StartupProfile = defineEntity({
  name: 'StartupProfile',
  tableName: 'startup_profile',
  properties: (p) => ({
    id: p.uuid().primary().onCreate(() => randomUUID()),
    owner: p.oneToOne(User).ref().owner().unique().deleteRule('cascade'),
    companyName: p.string().length(200),
    website: p.string().length(2048),
    description: p.text().nullable(),
    industry: p.manyToOne(Industry).ref().nullable().deleteRule('set null'),
    location: p.manyToOne(Location).ref().nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

export type StartupProfileEntity = InferEntity<typeof StartupProfile>;
