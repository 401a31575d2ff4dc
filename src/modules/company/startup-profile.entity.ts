import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { Industry } from './industry.entity.js';
import { profileIndexes, profileProperties } from './profile-properties.js';

export const StartupProfile = defineEntity({
  name: 'StartupProfile',
  tableName: 'startup_profile',
  properties: (p) => ({
    ...profileProperties(),
    industry: p.manyToOne(Industry).ref().nullable().deleteRule('set null'),
  }),
  indexes: profileIndexes('startup_profile', ['industry', 'location']),
});

export type StartupProfileEntity = InferEntity<typeof StartupProfile>;
