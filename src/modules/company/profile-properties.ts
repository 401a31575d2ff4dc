import { randomUUID } from 'node:crypto';
import { p } from '@mikro-orm/core';
import { User } from '../user/user.entity.js';
import { Location } from './location.entity.js';
import { searchIndexSql } from './profile-search.js';

/**
 * What a startup profile and an investor profile both are: a company presenting itself, owned by
 * one user. Each entity adds what is its own (a startup's industry). A function, so that each
 * entity gets its own property builders.
 */
export const profileProperties = () => ({
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
});

/**
 * Browsing pages newest first by (createdAt, id), optionally narrowed by one reference of
 * `narrowedBy`, and searching (profile-search.ts). Btree indexes scan backwards, so ascending
 * columns serve the descending order too.
 */
export const profileIndexes = <const R extends string>(table: string, narrowedBy: readonly R[]): ProfileIndex<R>[] => [
  { name: `${table}_created_at_id_index`, properties: ['createdAt', 'id'] },
  ...narrowedBy.map((reference): ProfileIndex<R> => ({ name: `${table}_${reference}_id_created_at_id_index`, properties: [reference, 'createdAt', 'id'] })),
  { name: `${table}_search_index`, expression: searchIndexSql(table) },
];

type ProfileIndex<R extends string> = { name: string; properties: ('createdAt' | 'id' | R)[] } | { name: string; expression: string };
