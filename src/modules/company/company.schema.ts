import { builder } from '../../graphql/builder.js';
import { UserRef } from '../user/user.schema.js';
import type { UserEntity } from '../user/user.entity.js';
import { loadIndustries, loadInvestorsByOwner, loadLocations, loadStartupsByOwner } from './company.loaders.js';
import { Industry, type IndustryEntity } from './industry.entity.js';
import type { InvestorProfileEntity } from './investor-profile.entity.js';
import { Location, type LocationEntity } from './location.entity.js';
import type { StartupProfileEntity } from './startup-profile.entity.js';

export const IndustryRef = builder.loadableObject('Industry', {
  description: 'A market sector a startup works in.',
  load: (ids: number[], context) => loadIndustries(context.em, ids),
  sort: (industry: IndustryEntity) => industry.id,
  fields: (t) => ({ id: t.exposeID('id'), name: t.exposeString('name') }),
});

export const LocationRef = builder.loadableObject('Location', {
  description: 'A country, and a city in it when known.',
  load: (ids: number[], context) => loadLocations(context.em, ids),
  sort: (location: LocationEntity) => location.id,
  fields: (t) => ({
    id: t.exposeID('id'),
    country: t.exposeString('country'),
    city: t.string({ nullable: true, resolve: (location) => location.city ?? null }),
  }),
});

export const StartupProfileRef = builder.objectRef<StartupProfileEntity>('StartupProfile');
export const InvestorProfileRef = builder.objectRef<InvestorProfileEntity>('InvestorProfile');

StartupProfileRef.implement({
  description: 'A startup presenting itself to investors.',
  fields: (t) => ({
    id: t.exposeID('id'),
    companyName: t.exposeString('companyName'),
    website: t.exposeString('website'),
    description: t.string({ nullable: true, resolve: (profile) => profile.description ?? null }),
    industry: t.field({ type: IndustryRef, nullable: true, resolve: (profile) => profile.industry?.id ?? null }),
    location: t.field({ type: LocationRef, nullable: true, resolve: (profile) => profile.location?.id ?? null }),
    owner: t.field({ type: UserRef, resolve: (profile) => profile.owner.id }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

InvestorProfileRef.implement({
  description: 'An investor looking for startups.',
  fields: (t) => ({
    id: t.exposeID('id'),
    companyName: t.exposeString('companyName'),
    website: t.exposeString('website'),
    description: t.string({ nullable: true, resolve: (profile) => profile.description ?? null }),
    location: t.field({ type: LocationRef, nullable: true, resolve: (profile) => profile.location?.id ?? null }),
    owner: t.field({ type: UserRef, resolve: (profile) => profile.owner.id }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.objectFields(UserRef, (t) => ({
  startupProfile: t.loadable({
    type: StartupProfileRef,
    nullable: true,
    description: "The user's startup, for a STARTUP user.",
    load: (ownerIds: string[], context) => loadStartupsByOwner(context.em, ownerIds),
    sort: (profile) => profile.owner.id,
    resolve: (user: UserEntity) => (user.role === 'STARTUP' ? user.id : null),
  }),
  investorProfile: t.loadable({
    type: InvestorProfileRef,
    nullable: true,
    description: "The user's investment company, for an INVESTOR user.",
    load: (ownerIds: string[], context) => loadInvestorsByOwner(context.em, ownerIds),
    sort: (profile) => profile.owner.id,
    resolve: (user: UserEntity) => (user.role === 'INVESTOR' ? user.id : null),
  }),
}));

builder.queryFields((t) => ({
  industries: t.field({
    type: [IndustryRef],
    description: 'Every industry, by name.',
    resolve: (_root, _args, context) => context.em.find(Industry, {}, { orderBy: { name: 'asc' } }),
  }),
  locations: t.field({
    type: [LocationRef],
    description: 'Every location, by country and city.',
    resolve: (_root, _args, context) => context.em.find(Location, {}, { orderBy: { country: 'asc', city: 'asc' } }),
  }),
}));
