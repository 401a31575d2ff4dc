import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { badUserInput, forbidden, notFound, type FieldErrors } from '../../shared/errors.js';
import { decodeCursor, pageSize, toConnection, type PageArgs } from '../../shared/pagination.js';
import { cleanText, intIdField, isUuid, parseInput, websiteField } from '../../shared/validation.js';
import type { UserView } from '../user/user.entity.js';
import { Industry, type IndustryEntity } from './industry.entity.js';
import { InvestorProfile, type InvestorProfileEntity } from './investor-profile.entity.js';
import { Location, type LocationEntity } from './location.entity.js';
import { investorPage, startupPage } from './profile.repository.js';
import { StartupProfile, type StartupProfileEntity } from './startup-profile.entity.js';

export const DESCRIPTION_MAX_LENGTH = 5000;
export const SEARCH_MAX_LENGTH = 100;

/** Checks that referenced reference rows exist; one field error per missing id. */
export async function checkReferences(em: EntityManager, ids: { industryId?: number | null; locationId?: number | null }): Promise<void> {
  const fields: FieldErrors = {};
  if (ids.industryId != null && !(await em.count(Industry, { id: ids.industryId }))) fields.industryId = 'No industry has this id.';
  if (ids.locationId != null && !(await em.count(Location, { id: ids.locationId }))) fields.locationId = 'No location has this id.';
  if (Object.keys(fields).length) throw badUserInput(fields);
}

// ---------------------------------------------------------------------------------------------
// Reading

// Profiles of accounts that never activated stay hidden (see ProfileService.startup).
const visibleWithId = (id: string) => ({ id, owner: { isActive: true } });

export interface StartupFilterInput {
  industryId?: string | null;
  locationId?: string | null;
  search?: string | null;
}

export type InvestorFilterInput = Omit<StartupFilterInput, 'industryId'>;

const searchField = z.string().max(SEARCH_MAX_LENGTH, `Search must be at most ${SEARCH_MAX_LENGTH} characters.`).transform(searchTerms).nullish();

// Wrapped in `filter` so that field errors are keyed as clients wrote them (`filter.industryId`).
const startupFilterSchema = z.object({
  filter: z.object({ industryId: intIdField('Industry').nullish(), locationId: intIdField('Location').nullish(), search: searchField }).nullish(),
});

const investorFilterSchema = z.object({
  filter: z.object({ locationId: intIdField('Location').nullish(), search: searchField }).nullish(),
});

// Paging arguments are checked before the filter, so their errors come first.
const pageOf = (args: PageArgs) => ({ limit: pageSize(args.first), after: decodeCursor(args.after) });

/** Whitespace-separated words of a search, without repeats; blank searches filter nothing. */
function searchTerms(search: string): string[] {
  return [...new Set(search.trim().split(/\s+/).filter(Boolean))];
}

// ---------------------------------------------------------------------------------------------
// Updating

// A profile always has a name and a website: null is refused, leaving the field out keeps it.
const keptField = <S extends z.ZodType<string>>(field: S, label: string) =>
  field.nullish().refine((value) => value !== null, `${label} cannot be removed; leave the field out to keep it.`);

const profileUpdateFields = {
  companyName: keptField(cleanText(200, 'Company name'), 'Company name'),
  website: keptField(websiteField, 'Website'),
  description: cleanText(DESCRIPTION_MAX_LENGTH, 'Description').nullish(),
  locationId: intIdField('Location').nullish(),
};

const updateStartupSchema = z.object({ ...profileUpdateFields, industryId: intIdField('Industry').nullish() });
const updateInvestorSchema = z.object(profileUpdateFields);

export interface UpdateStartupProfileInput {
  companyName?: string | null;
  website?: string | null;
  description?: string | null;
  industryId?: string | null;
  locationId?: string | null;
}

export type UpdateInvestorProfileInput = Omit<UpdateStartupProfileInput, 'industryId'>;

/** The changes as parsed, with the references they name checked. */
async function parseUpdate<S extends z.ZodType<ParsedCommonFields & { industryId?: number | null }>>(
  em: EntityManager,
  schema: S,
  raw: UpdateStartupProfileInput,
): Promise<z.output<S>> {
  const input = parseInput(schema, blankDescriptionAsNull(raw));
  await checkReferences(em, input);
  return input;
}

/** Forms send an emptied text area as "": that means "no description", not an error. */
function blankDescriptionAsNull<T extends { description?: string | null }>(raw: T): T {
  return typeof raw.description === 'string' && raw.description.trim() === '' ? { ...raw, description: null } : raw;
}

type ParsedCommonFields = z.output<z.ZodObject<typeof profileUpdateFields>>;

/** Only the fields the client sent: `undefined` means "leave as is". */
function commonChanges(input: ParsedCommonFields) {
  return {
    ...(input.companyName != null ? { companyName: input.companyName } : {}),
    ...(input.website != null ? { website: input.website } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.locationId !== undefined ? { location: input.locationId } : {}),
  };
}

/** Startup and investor profiles: the same reads and updates, each with its own extra field and role. */
export class ProfileService {
  /** Every industry, by name. */
  industries(em: EntityManager): Promise<IndustryEntity[]> {
    return em.find(Industry, {}, { orderBy: { name: 'asc' } });
  }

  /** Every location, by country and city. */
  locations(em: EntityManager): Promise<LocationEntity[]> {
    return em.find(Location, {}, { orderBy: { country: 'asc', city: 'asc' } });
  }

  /**
   * A profile by id, or null. Profiles of accounts that never activated stay hidden: anyone can
   * register with any address, and an unconfirmed company should not appear to investors.
   * Malformed ids are simply not found; a lookup by id never fails.
   */
  async startup(em: EntityManager, id: string): Promise<StartupProfileEntity | null> {
    return isUuid(id) ? em.findOne(StartupProfile, visibleWithId(id)) : null;
  }

  async investor(em: EntityManager, id: string): Promise<InvestorProfileEntity | null> {
    return isUuid(id) ? em.findOne(InvestorProfile, visibleWithId(id)) : null;
  }

  /** Startups newest first, narrowed by every filter given; a Relay connection. */
  async startups(em: EntityManager, args: PageArgs & { filter?: StartupFilterInput | null }) {
    const page = pageOf(args);
    const { filter } = parseInput(startupFilterSchema, { filter: args.filter });
    return toConnection(await startupPage(em, { ...filter, terms: filter?.search ?? [] }, page), page.limit);
  }

  /** Investors newest first, narrowed by every filter given; a Relay connection. */
  async investors(em: EntityManager, args: PageArgs & { filter?: InvestorFilterInput | null }) {
    const page = pageOf(args);
    const { filter } = parseInput(investorFilterSchema, { filter: args.filter });
    return toConnection(await investorPage(em, { ...filter, terms: filter?.search ?? [] }, page), page.limit);
  }

  /** Changes the viewer's startup profile: absent fields stay, null clears the nullable ones. */
  async updateStartup(em: EntityManager, viewer: UserView, raw: UpdateStartupProfileInput): Promise<StartupProfileEntity> {
    if (viewer.role !== 'STARTUP') throw forbidden('Only a STARTUP account has a startup profile.');
    const input = await parseUpdate(em, updateStartupSchema, raw);
    const profile = await em.findOne(StartupProfile, { owner: viewer.id });
    if (!profile) throw notFound('Startup profile');
    em.assign(profile, {
      ...commonChanges(input),
      ...(input.industryId !== undefined ? { industry: input.industryId } : {}),
    });
    await em.flush();
    return profile;
  }

  /** Changes the viewer's investor profile: absent fields stay, null clears the nullable ones. */
  async updateInvestor(em: EntityManager, viewer: UserView, raw: UpdateInvestorProfileInput): Promise<InvestorProfileEntity> {
    if (viewer.role !== 'INVESTOR') throw forbidden('Only an INVESTOR account has an investor profile.');
    const input = await parseUpdate(em, updateInvestorSchema, raw);
    const profile = await em.findOne(InvestorProfile, { owner: viewer.id });
    if (!profile) throw notFound('Investor profile');
    em.assign(profile, commonChanges(input));
    await em.flush();
    return profile;
  }
}
