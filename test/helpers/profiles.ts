import { randomBytes } from 'node:crypto';
import type { GqlResult, TestApp } from './app.js';
import { withClient } from './database.js';
import { signedInUser, type RegisterOverrides, type RegisteredUser, type Tokens } from './factories.js';
import { dataOf } from './graphql.js';

export const PROFILE_FIELDS = /* GraphQL */ `
  id companyName website description createdAt
  location { id country city }
  owner { id email role firstName }
`;

export const STARTUP = /* GraphQL */ `
  query Startup($id: ID!) { startup(id: $id) { ${PROFILE_FIELDS} industry { id name } } }
`;
export const INVESTOR = /* GraphQL */ `
  query Investor($id: ID!) { investor(id: $id) { ${PROFILE_FIELDS} } }
`;
export const STARTUPS = /* GraphQL */ `
  query Startups($first: Int, $after: String, $filter: StartupFilter) {
    startups(first: $first, after: $after, filter: $filter) {
      edges { cursor node { id companyName description industry { id } location { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
export const INVESTORS = /* GraphQL */ `
  query Investors($first: Int, $after: String, $filter: InvestorFilter) {
    investors(first: $first, after: $after, filter: $filter) {
      edges { cursor node { id companyName description location { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
export const UPDATE_STARTUP = /* GraphQL */ `
  mutation UpdateStartup($input: UpdateStartupProfileInput!) {
    updateStartupProfile(input: $input) { ${PROFILE_FIELDS} industry { id name } }
  }
`;
export const UPDATE_INVESTOR = /* GraphQL */ `
  mutation UpdateInvestor($input: UpdateInvestorProfileInput!) {
    updateInvestorProfile(input: $input) { ${PROFILE_FIELDS} }
  }
`;

export interface ProfileNode {
  id: string;
  companyName: string;
  description: string | null;
  industry?: { id: string } | null;
  location: { id: string } | null;
}

export interface Page {
  edges: Array<{ cursor: string; node: ProfileNode }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** A word no other test uses, so a search for it sees only this test's profiles. */
export const uniqueTag = (prefix = 'Tag') => `${prefix}${randomBytes(4).toString('hex')}`;

export interface CompanyOverrides extends RegisterOverrides {
  description?: string;
}

/**
 * A signed-in user with their profile as the API returns it; a description is set through
 * the update mutation, since registration has none.
 */
export async function signedInCompany(t: TestApp, overrides: CompanyOverrides = {}): Promise<RegisteredUser & { tokens: Tokens; profileId: string }> {
  const { description, ...registration } = overrides;
  const user = await signedInUser(t, registration);
  const startup = user.role === 'STARTUP';
  const input = description === undefined ? {} : { description };
  const result = await t.gql<Record<string, { id: string }>>(startup ? UPDATE_STARTUP : UPDATE_INVESTOR, { input }, { token: user.tokens.accessToken });
  const profile = dataOf(result, 'profile update')[startup ? 'updateStartupProfile' : 'updateInvestorProfile']!;
  return { ...user, profileId: profile.id };
}

export interface BulkProfiles {
  role: 'STARTUP' | 'INVESTOR';
  count: number;
  /** Each company is named `${namePrefix} ${n}`. */
  namePrefix: string;
}

/**
 * Inserts `count` active users with profiles in one statement: registering hundreds through the
 * API would take minutes. Industries and locations vary per row (so loaders see many ids), and
 * rows share createdAt in threes (so pages must break ties by id); `now()` has microseconds,
 * which the column rounds to the milliseconds a cursor carries. Returns the profile ids in
 * the API's order: newest first.
 */
export async function insertProfiles(t: TestApp, { role, count, namePrefix }: BulkProfiles): Promise<string[]> {
  const table = role === 'STARTUP' ? 'startup_profile' : 'investor_profile';
  const industry = role === 'STARTUP' ? ', industry_id' : '';
  const industryValue = role === 'STARTUP' ? ', (g % 25) + 1' : '';
  const emailPrefix = `bulk-${randomBytes(5).toString('hex')}`;
  return withClient(t.db.url, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `with numbered as (
         select gen_random_uuid() as user_id, gen_random_uuid() as profile_id, g,
                now() - (g / 3) * interval '1 millisecond' as created_at
         from generate_series(1, $1::int) g
       ), users as (
         insert into "user" (id, email, password_hash, role, first_name, is_active, activated_at, created_at, updated_at)
         select user_id, $2 || '-' || g || '@example.com', 'no-login', $3::user_role, 'Bulk ' || g, true, now(), now(), now()
         from numbered
       )
       insert into ${table} (id, owner_id, company_name, website, description, location_id, created_at, updated_at${industry})
       select profile_id, user_id, $4 || ' ' || g, 'https://example.com', null, (g % 20) + 1, created_at, now()${industryValue}
       from numbered
       returning id, created_at`,
      [count, emailPrefix, role, namePrefix],
    );
    const inserted = rows as Array<{ id: string; created_at: Date }>;
    return inserted.sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((row) => row.id);
  });
}

/** Every page of a connection query, following endCursor; fails on errors. */
export async function allPages(t: TestApp, query: string, field: 'startups' | 'investors', variables: Record<string, unknown>): Promise<ProfileNode[]> {
  const nodes: ProfileNode[] = [];
  let after: string | null = null;
  for (let pageNo = 0; pageNo < 1000; pageNo++) {
    const result: GqlResult<Record<string, Page>> = await t.gql<Record<string, Page>>(query, { ...variables, after });
    const page: Page = dataOf(result, field)[field]!;
    nodes.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage) return nodes;
    after = page.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}
