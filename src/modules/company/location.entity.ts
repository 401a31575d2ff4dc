import { defineEntity, type InferEntity } from '@mikro-orm/core';

export const Location = defineEntity({
  name: 'Location',
  tableName: 'location',
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    country: p.string().length(100),
    city: p.string().length(100).nullable(),
  }),
  uniques: [{ properties: ['country', 'city'] }],
});

export type LocationEntity = InferEntity<typeof Location>;
