import { defineEntity, type InferEntity } from '@mikro-orm/core';

export const Industry = defineEntity({
  name: 'Industry',
  tableName: 'industry',
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100).unique(),
  }),
});

export type IndustryEntity = InferEntity<typeof Industry>;
