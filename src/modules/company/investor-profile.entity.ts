import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { profileIndexes, profileProperties } from './profile-properties.js';

export const InvestorProfile = defineEntity({
  name: 'InvestorProfile',
  tableName: 'investor_profile',
  properties: profileProperties(),
  indexes: profileIndexes('investor_profile', ['location']),
});

export type InvestorProfileEntity = InferEntity<typeof InvestorProfile>;
