import type { ContextOrderByMap, EntityManager, QBField, QueryBuilder } from '@mikro-orm/postgresql';
import type { KeysetCursor } from '../../shared/pagination.js';
import { InvestorProfile, type InvestorProfileEntity } from './investor-profile.entity.js';
import { searchDocumentSql } from './profile-search.js';
import { StartupProfile, type StartupProfileEntity } from './startup-profile.entity.js';

/** A keyset page: the rows after `after`, and one more than `limit` to tell whether more follow. */
export interface Page {
  after: KeysetCursor | null;
  limit: number;
}

interface ProfileFilter {
  locationId?: number | null;
  /** Words that must each occur in the name or the description. */
  terms: readonly string[];
}

export function startupPage(em: EntityManager, filter: ProfileFilter & { industryId?: number | null }, page: Page): Promise<StartupProfileEntity[]> {
  const qb = em.createQueryBuilder(StartupProfile, 'p');
  if (filter.industryId != null) qb.andWhere({ industry: filter.industryId });
  if (filter.locationId != null) qb.andWhere({ location: filter.locationId });
  return fetchPage(qb, page, filter.terms);
}

export function investorPage(em: EntityManager, filter: ProfileFilter, page: Page): Promise<InvestorProfileEntity[]> {
  const qb = em.createQueryBuilder(InvestorProfile, 'p');
  if (filter.locationId != null) qb.andWhere({ location: filter.locationId });
  return fetchPage(qb, page, filter.terms);
}

/** A user's `%` or `_` is a character to find, not a wildcard. */
const escapeLike = (term: string) => term.replace(/[\\%_]/g, '\\$&');

/**
 * The conditions both profile kinds share: active owners, search terms, and the keyset page.
 * Ordering by (createdAt, id) and seeking past the cursor, rather than OFFSET, keeps pages free of
 * duplicates and gaps while new profiles arrive (they sort before the cursor).
 */
async function fetchPage<T extends KeysetCursor & object>(qb: QueryBuilder<T, 'p'>, page: Page, terms: readonly string[]): Promise<T[]> {
  // Both profile entities have `owner`, `createdAt` and `id`, but through T the builder's types
  // cannot see them: the shared names are asserted here, once.
  const owner = 'p.owner' as QBField<T, 'p', never>;
  const newestFirst = { createdAt: 'desc', id: 'desc' } as ContextOrderByMap<T, 'p'>;
  qb.select('p.*').join(owner, 'o').andWhere('o.is_active = true');
  // Every term must occur in the name or the description: typing more words narrows the list.
  for (const term of terms) qb.andWhere(`${searchDocumentSql('p')} ilike ?`, [`%${escapeLike(term)}%`]);
  if (page.after) qb.andWhere('(p.created_at, p.id) < (?, ?)', [page.after.createdAt, page.after.id]);
  // The extra row only tells whether there is a next page.
  return qb
    .orderBy(newestFirst)
    .limit(page.limit + 1)
    .getResultList();
}
