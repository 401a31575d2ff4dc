import type { EntityManager } from '@mikro-orm/postgresql';
import { Industry, type IndustryEntity } from './industry.entity.js';
import { InvestorProfile, type InvestorProfileEntity } from './investor-profile.entity.js';
import { Location, type LocationEntity } from './location.entity.js';
import { StartupProfile, type StartupProfileEntity } from './startup-profile.entity.js';

/** Batch loaders: one query per kind per tick, whatever the page size. */
export const loadIndustries = (em: EntityManager, ids: readonly number[]): Promise<IndustryEntity[]> => em.find(Industry, { id: { $in: [...ids] } });

export const loadLocations = (em: EntityManager, ids: readonly number[]): Promise<LocationEntity[]> => em.find(Location, { id: { $in: [...ids] } });

export const loadStartupsByOwner = (em: EntityManager, ownerIds: readonly string[]): Promise<StartupProfileEntity[]> =>
  em.find(StartupProfile, { owner: { $in: [...ownerIds] } });

export const loadInvestorsByOwner = (em: EntityManager, ownerIds: readonly string[]): Promise<InvestorProfileEntity[]> =>
  em.find(InvestorProfile, { owner: { $in: [...ownerIds] } });
