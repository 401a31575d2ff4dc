import { randomUUID } from 'node:crypto';
import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';
import { Location } from './location.entity.js';
import { searchIndexSql } from './profile-search.js';

export const InvestorProfile = defineEntity({
  name: 'InvestorProfile',
  tableName: 'investor_profile',
  properties: (p) => ({
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    owner: p.oneToOne(User).ref().owner().unique().deleteRule('cascade'),
    companyName: p.string().length(200),
    website: p.string().length(2048),
    description: p.text().nullable(),
    location: p.manyToOne(Location).ref().nullable().deleteRule('set null'),
    // Milliseconds, as in JS dates and page cursors: a cursor then names its row exactly.
    createdAt: p.datetime(3).onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  }),
  // Browsing pages newest first by (createdAt, id), optionally narrowed by one reference; btree
  // indexes scan backwards, so ascending columns serve the descending order too.
  indexes: [
    { name: 'investor_profile_created_at_id_index', properties: ['createdAt', 'id'] },
    { name: 'investor_profile_location_id_created_at_id_index', properties: ['location', 'createdAt', 'id'] },
    { name: 'investor_profile_search_index', expression: searchIndexSql('investor_profile') },
  ],
});

export type InvestorProfileEntity = InferEntity<typeof InvestorProfile>;
