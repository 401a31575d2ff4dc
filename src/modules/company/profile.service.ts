import type { ContextOrderByMap, EntityManager, QBField, QueryBuilder } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { badUserInput, forbidden, notFound, type FieldErrors } from '../../shared/errors.js';
import { decodeCursor, pageSize, toConnection, type KeysetCursor } from '../../shared/pagination.js';
import { cleanText, intIdField, isUuid, parseInput, websiteField } from '../../shared/validation.js';
import type { UserEntity } from '../user/user.entity.js';
import { Industry } from './industry.entity.js';
import { InvestorProfile, type InvestorProfileEntity } from './investor-profile.entity.js';
import { Location } from './location.entity.js';
import { searchDocumentSql } from './profile-search.js';
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

/**
 * A profile by id, or null. Profiles of accounts that never activated stay hidden: anyone can
 * register with any address, and an unconfirmed company should not appear to investors.
 * Malformed ids are simply not found; a lookup by id never fails.
 */
export async function findStartup(em: EntityManager, id: string): Promise<StartupProfileEntity | null> {
  if (!isUuid(id)) return null;
  return em.findOne(StartupProfile, { id, owner: { isActive: true } });
}

export async function findInvestor(em: EntityManager, id: string): Promise<InvestorProfileEntity | null> {
  if (!isUuid(id)) return null;
  return em.findOne(InvestorProfile, { id, owner: { isActive: true } });
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

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

/** Startups newest first, narrowed by every filter given; a Relay connection. */
export async function listStartups(em: EntityManager, args: PageArgs & { filter?: StartupFilterInput | null }) {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after);
  const { filter } = parseInput(startupFilterSchema, { filter: args.filter });
  const qb = em.createQueryBuilder(StartupProfile, 'p');
  if (filter?.industryId != null) qb.andWhere({ industry: filter.industryId });
  if (filter?.locationId != null) qb.andWhere({ location: filter.locationId });
  const rows = await fetchPage(qb, { after, limit, terms: filter?.search ?? [] });
  return toConnection(rows, limit);
}

/** Investors newest first, narrowed by every filter given; a Relay connection. */
export async function listInvestors(em: EntityManager, args: PageArgs & { filter?: InvestorFilterInput | null }) {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after);
  const { filter } = parseInput(investorFilterSchema, { filter: args.filter });
  const qb = em.createQueryBuilder(InvestorProfile, 'p');
  if (filter?.locationId != null) qb.andWhere({ location: filter.locationId });
  const rows = await fetchPage(qb, { after, limit, terms: filter?.search ?? [] });
  return toConnection(rows, limit);
}

/**
 * The conditions both profile kinds share: active owners, search terms, and the keyset page.
 * Ordering by (createdAt, id) and seeking past the cursor, rather than OFFSET, keeps pages free of
 * duplicates and gaps while new profiles arrive (they sort before the cursor).
 */
async function fetchPage<T extends KeysetCursor & object>(
  qb: QueryBuilder<T, 'p'>,
  page: { after: KeysetCursor | null; limit: number; terms: string[] },
): Promise<T[]> {
  // Both profile entities have `owner`, `createdAt` and `id`, but through T the builder's types
  // cannot see them: the shared names are asserted here, once.
  const owner = 'p.owner' as QBField<T, 'p', never>;
  const newestFirst = { createdAt: 'desc', id: 'desc' } as ContextOrderByMap<T, 'p'>;
  qb.select('p.*').join(owner, 'o').andWhere('o.is_active = true');
  // Every term must occur in the name or the description: typing more words narrows the list.
  for (const term of page.terms) qb.andWhere(`${searchDocumentSql('p')} ilike ?`, [`%${escapeLike(term)}%`]);
  if (page.after) qb.andWhere('(p.created_at, p.id) < (?, ?)', [page.after.createdAt, page.after.id]);
  // The extra row only tells whether there is a next page.
  return qb
    .orderBy(newestFirst)
    .limit(page.limit + 1)
    .getResultList();
}

/** Whitespace-separated words of a search, without repeats; blank searches filter nothing. */
function searchTerms(search: string): string[] {
  return [...new Set(search.trim().split(/\s+/).filter(Boolean))];
}

/** A user's `%` or `_` is a character to find, not a wildcard. */
const escapeLike = (term: string) => term.replace(/[\\%_]/g, '\\$&');

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

/** Changes the viewer's startup profile: absent fields stay, null clears the nullable ones. */
export async function updateStartupProfile(em: EntityManager, viewer: UserEntity, raw: UpdateStartupProfileInput): Promise<StartupProfileEntity> {
  if (viewer.role !== 'STARTUP') throw forbidden('Only a STARTUP account has a startup profile.');
  const input = parseInput(updateStartupSchema, blankDescriptionAsNull(raw));
  await checkReferences(em, input);
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
export async function updateInvestorProfile(em: EntityManager, viewer: UserEntity, raw: UpdateInvestorProfileInput): Promise<InvestorProfileEntity> {
  if (viewer.role !== 'INVESTOR') throw forbidden('Only an INVESTOR account has an investor profile.');
  const input = parseInput(updateInvestorSchema, blankDescriptionAsNull(raw));
  await checkReferences(em, input);
  const profile = await em.findOne(InvestorProfile, { owner: viewer.id });
  if (!profile) throw notFound('Investor profile');
  em.assign(profile, commonChanges(input));
  await em.flush();
  return profile;
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
