import type { ObjectRef } from '@pothos/core';
import { builder } from '../../graphql/builder.js';
import { UserRef } from '../user/user.schema.js';
import type { UserView } from '../user/user.entity.js';
import { loadIndustries, loadInvestorsByOwner, loadLocations, loadStartupsByOwner } from './company.loaders.js';
import type { IndustryEntity } from './industry.entity.js';
import type { InvestorProfileEntity } from './investor-profile.entity.js';
import type { LocationEntity } from './location.entity.js';
import { DESCRIPTION_MAX_LENGTH, SEARCH_MAX_LENGTH } from './profile.service.js';
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

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** The fields both profiles have, the same on StartupProfile and InvestorProfile. */
const profileFields = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, StartupProfileEntity | InvestorProfileEntity>) => ({
  id: t.exposeID('id'),
  companyName: t.exposeString('companyName'),
  website: t.exposeString('website'),
  description: t.string({ nullable: true, resolve: (profile) => profile.description ?? null }),
  location: t.field({ type: LocationRef, nullable: true, resolve: (profile) => profile.location?.id ?? null }),
  owner: t.field({ type: UserRef, resolve: (profile) => profile.owner.id }),
  createdAt: t.expose('createdAt', { type: 'DateTime' }),
});

StartupProfileRef.implement({
  description: 'A startup presenting itself to investors.',
  fields: (t) => ({
    ...profileFields(t),
    industry: t.field({ type: IndustryRef, nullable: true, resolve: (profile) => profile.industry?.id ?? null }),
  }),
});

InvestorProfileRef.implement({
  description: 'An investor looking for startups.',
  fields: profileFields,
});

builder.objectFields(UserRef, (t) => ({
  startupProfile: t.loadable({
    type: StartupProfileRef,
    nullable: true,
    description: "The user's startup, for a STARTUP user.",
    load: (ownerIds: string[], context) => loadStartupsByOwner(context.em, ownerIds),
    sort: (profile) => profile.owner.id,
    resolve: (user: UserView) => (user.role === 'STARTUP' ? user.id : null),
  }),
  investorProfile: t.loadable({
    type: InvestorProfileRef,
    nullable: true,
    description: "The user's investment company, for an INVESTOR user.",
    load: (ownerIds: string[], context) => loadInvestorsByOwner(context.em, ownerIds),
    sort: (profile) => profile.owner.id,
    resolve: (user: UserView) => (user.role === 'INVESTOR' ? user.id : null),
  }),
}));

builder.queryFields((t) => ({
  industries: t.field({
    type: [IndustryRef],
    description: 'Every industry, by name.',
    resolve: (_root, _args, context) => context.services.profiles.industries(context.em),
  }),
  locations: t.field({
    type: [LocationRef],
    description: 'Every location, by country and city.',
    resolve: (_root, _args, context) => context.services.profiles.locations(context.em),
  }),
}));

const profileConnection = <P extends StartupProfileEntity | InvestorProfileEntity>(type: ObjectRef<Types, P>, name: 'StartupProfile' | 'InvestorProfile') =>
  builder.connectionObject({ type, name: `${name}Connection` }, { name: `${name}Edge` });

const StartupProfileConnection = profileConnection(StartupProfileRef, 'StartupProfile');
const InvestorProfileConnection = profileConnection(InvestorProfileRef, 'InvestorProfile');

const searchDescription = `Words (at most ${SEARCH_MAX_LENGTH} characters) that must each occur in the company name or description, case-insensitively; parts of words match ("fin" finds "FinTech").`;

type InputFields = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;

/** The filters both profile lists take. */
const profileFilterFields = (t: InputFields) => ({
  locationId: t.id(),
  search: t.string({ description: searchDescription }),
});

const StartupFilter = builder.inputType('StartupFilter', {
  description: 'Narrows startups; every filter given must match.',
  fields: (t) => ({ ...profileFilterFields(t), industryId: t.id() }),
});

const InvestorFilter = builder.inputType('InvestorFilter', {
  description: 'Narrows investors; every filter given must match.',
  fields: profileFilterFields,
});

/** The changes both profiles take. */
const profileUpdateFields = (t: InputFields) => ({
  companyName: t.string(),
  website: t.string({ description: 'An http(s) URL.' }),
  description: t.string({ description: `Up to ${DESCRIPTION_MAX_LENGTH} characters; null or an empty string clears it.` }),
  locationId: t.id(),
});

const UpdateStartupProfileInput = builder.inputType('UpdateStartupProfileInput', {
  description: "Changes to the viewer's startup profile: absent fields stay as they are; null clears description, industryId and locationId.",
  fields: (t) => ({ ...profileUpdateFields(t), industryId: t.id() }),
});

const UpdateInvestorProfileInput = builder.inputType('UpdateInvestorProfileInput', {
  description: "Changes to the viewer's investor profile: absent fields stay as they are; null clears description and locationId.",
  fields: profileUpdateFields,
});

type QueryFields = PothosSchemaTypes.QueryFieldBuilder<Types, Types['Root']>;

const pageArgs = (t: QueryFields) => ({
  first: t.arg.int({ description: 'Page size: 20 when absent, at most 100.' }),
  after: t.arg.string({ description: 'The endCursor of the previous page.' }),
});

builder.queryFields((t) => ({
  startup: t.field({
    type: StartupProfileRef,
    nullable: true,
    description: 'A startup by id; null when there is none.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => context.services.profiles.startup(context.em, String(id)),
  }),
  investor: t.field({
    type: InvestorProfileRef,
    nullable: true,
    description: 'An investor by id; null when there is none.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => context.services.profiles.investor(context.em, String(id)),
  }),
  startups: t.field({
    type: StartupProfileConnection,
    description: 'Startups, newest first.',
    args: { ...pageArgs(t), filter: t.arg({ type: StartupFilter }) },
    resolve: (_root, args, context) => context.services.profiles.startups(context.em, args),
  }),
  investors: t.field({
    type: InvestorProfileConnection,
    description: 'Investors, newest first.',
    args: { ...pageArgs(t), filter: t.arg({ type: InvestorFilter }) },
    resolve: (_root, args, context) => context.services.profiles.investors(context.em, args),
  }),
}));

builder.mutationFields((t) => ({
  updateStartupProfile: t.withAuth({ loggedIn: true }).field({
    type: StartupProfileRef,
    description: "Edits the viewer's own startup profile; only STARTUP accounts have one.",
    args: { input: t.arg({ type: UpdateStartupProfileInput, required: true }) },
    resolve: (_root, { input }, context) => context.services.profiles.updateStartup(context.em, context.viewer, input),
  }),
  updateInvestorProfile: t.withAuth({ loggedIn: true }).field({
    type: InvestorProfileRef,
    description: "Edits the viewer's own investor profile; only INVESTOR accounts have one.",
    args: { input: t.arg({ type: UpdateInvestorProfileInput, required: true }) },
    resolve: (_root, { input }, context) => context.services.profiles.updateInvestor(context.em, context.viewer, input),
  }),
}));
