import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from './helpers/app.js';
import { withClient } from './helpers/database.js';
import { REGISTER, dataOf, fieldErrors } from './helpers/graphql.js';
import { registerInput } from './helpers/factories.js';
import { startCountedApp } from './helpers/statements.js';
import {
  INVESTOR,
  INVESTORS,
  STARTUP,
  STARTUPS,
  UPDATE_INVESTOR,
  UPDATE_STARTUP,
  allPages,
  insertProfiles,
  signedInCompany,
  uniqueTag,
  type Page,
  type ProfileNode,
} from './helpers/profiles.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

const names = (nodes: ProfileNode[]) => nodes.map((node) => node.companyName);

async function startups(variables: Record<string, unknown>): Promise<Page> {
  const result = await t.gql<{ startups: Page }>(STARTUPS, variables);
  return dataOf(result, 'startups').startups;
}

describe('me', () => {
  const ME = /* GraphQL */ `
    query Me {
      me {
        id email role firstName lastName isActive
        startupProfile { id companyName industry { name } location { city } owner { id email } }
        investorProfile { id }
      }
    }
  `;

  it("shows a startup viewer's role, names, own email and startup profile", async () => {
    const company = await signedInCompany(t, { companyName: `Me Robotics ${uniqueTag()}`, industryId: '2', locationId: '3' });
    const result = await t.gql(ME, {}, { token: company.tokens.accessToken });
    expect(result.data).toEqual({
      me: {
        id: company.id,
        email: company.email,
        role: 'STARTUP',
        firstName: 'Olena',
        lastName: 'Shevchenko',
        isActive: true,
        startupProfile: {
          id: company.profileId,
          companyName: expect.stringMatching(/^Me Robotics/),
          industry: { name: 'HealthTech' },
          location: { city: 'Odesa' },
          owner: { id: company.id, email: company.email },
        },
        investorProfile: null,
      },
    });
  });

  it("shows an investor viewer's investor profile and no startup profile", async () => {
    const company = await signedInCompany(t, { role: 'INVESTOR' });
    const result = await t.gql<{ me: { role: string; startupProfile: unknown; investorProfile: { id: string } } }>(
      ME,
      {},
      { token: company.tokens.accessToken },
    );
    expect(result.data?.me).toMatchObject({ role: 'INVESTOR', startupProfile: null, investorProfile: { id: company.profileId } });
  });

  it('is null without a token', async () => {
    expect((await t.gql(ME)).data).toEqual({ me: null });
  });
});

describe('startup and investor by id', () => {
  it('returns a startup with its industry, location and owner to anyone', async () => {
    const company = await signedInCompany(t, { companyName: 'Lookup Labs', industryId: '1', locationId: '1', description: 'We look things up.' });
    const result = await t.gql(STARTUP, { id: company.profileId });
    expect(result.data).toEqual({
      startup: {
        id: company.profileId,
        companyName: 'Lookup Labs',
        website: 'https://example.com',
        description: 'We look things up.',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        industry: { id: '1', name: 'FinTech' },
        location: { id: '1', country: 'Ukraine', city: 'Kyiv' },
        owner: { id: company.id, email: null, role: 'STARTUP', firstName: 'Olena' },
      },
    });
  });

  it('returns an investor with its location and owner to anyone', async () => {
    const company = await signedInCompany(t, { role: 'INVESTOR', companyName: 'Lookup Capital', locationId: '21' });
    const result = await t.gql(INVESTOR, { id: company.profileId });
    expect(result.data).toEqual({
      investor: {
        id: company.profileId,
        companyName: 'Lookup Capital',
        website: 'https://example.com',
        description: null,
        createdAt: expect.any(String),
        location: { id: '21', country: 'Poland', city: 'Warsaw' },
        owner: { id: company.id, email: null, role: 'INVESTOR', firstName: 'Olena' },
      },
    });
  });

  it.each([
    ['an unknown id', '00000000-0000-4000-8000-000000000000'],
    ['a malformed id', 'not-an-id'],
    ['a number', '42'],
    ['an empty string', ''],
    ['a huge string', 'x'.repeat(10_000)],
  ])('answers null, not an error, for %s', async (_name, id) => {
    const [startup, investor] = await Promise.all([t.gql(STARTUP, { id }), t.gql(INVESTOR, { id })]);
    expect(startup).toEqual({ status: 200, data: { startup: null } });
    expect(investor).toEqual({ status: 200, data: { investor: null } });
  });

  it("answers null for the other kind's id", async () => {
    const startup = await signedInCompany(t);
    const investor = await signedInCompany(t, { role: 'INVESTOR' });
    expect((await t.gql(INVESTOR, { id: startup.profileId })).data).toEqual({ investor: null });
    expect((await t.gql(STARTUP, { id: investor.profileId })).data).toEqual({ startup: null });
  });

  it('hides the profile of an account that was never activated', async () => {
    const tag = uniqueTag('Unconfirmed');
    const input = registerInput({ companyName: tag });
    await t.gql(REGISTER, { input });
    const id = await withClient(t.db.url, async (client) => {
      const { rows } = await client.query<{ id: string }>(`select id from startup_profile where company_name = $1`, [tag]);
      return rows[0]!.id;
    });
    expect((await t.gql(STARTUP, { id })).data).toEqual({ startup: null });
    expect((await startups({ filter: { search: tag } })).edges).toEqual([]);
  });
});

describe('email privacy', () => {
  const OWNER_EMAIL = /* GraphQL */ `query ($id: ID!) { startup(id: $id) { owner { id email } } }`;

  it("shows an owner's email only to that owner", async () => {
    const owner = await signedInCompany(t);
    const other = await signedInCompany(t, { role: 'INVESTOR' });
    const ownerEmail = (token?: string) => t.gql<{ startup: { owner: { email: string | null } } }>(OWNER_EMAIL, { id: owner.profileId }, { token });

    expect((await ownerEmail()).data?.startup.owner.email).toBeNull();
    expect((await ownerEmail(other.tokens.accessToken)).data?.startup.owner.email).toBeNull();
    expect((await ownerEmail(owner.tokens.accessToken)).data?.startup.owner.email).toBe(owner.email);
  });

  it('never shows emails in lists', async () => {
    const tag = uniqueTag('Private');
    const owner = await signedInCompany(t, { companyName: `${tag} One` });
    const viewer = await signedInCompany(t, { role: 'INVESTOR' });
    const query = /* GraphQL */ `query ($filter: StartupFilter) { startups(filter: $filter) { edges { node { owner { id email } } } } }`;
    const result = await t.gql<{ startups: { edges: Array<{ node: { owner: { id: string; email: string | null } } }> } }>(
      query,
      { filter: { search: tag } },
      { token: viewer.tokens.accessToken },
    );
    expect(result.data?.startups.edges).toEqual([{ node: { owner: { id: owner.id, email: null } } }]);
  });
});

describe('startups', () => {
  it('lists startups newest first as a Relay connection', async () => {
    const tag = uniqueTag('Order');
    for (const n of [1, 2, 3]) await signedInCompany(t, { companyName: `${tag} ${n}` });
    const page = await startups({ filter: { search: tag } });
    expect(names(page.edges.map((edge) => edge.node))).toEqual([`${tag} 3`, `${tag} 2`, `${tag} 1`]);
    expect(page.pageInfo).toEqual({ hasNextPage: false, endCursor: page.edges[2]!.cursor });
    for (const edge of page.edges) expect(edge.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  describe('filters', () => {
    // Locations 31 and 32 are used by no other test here; other tests' startups may share the
    // industries, so results are checked by filter and by this test's tag.
    const tag = uniqueTag('Filter');
    const companies = [
      { companyName: `${tag} Alpha`, industryId: '21', locationId: '31' },
      { companyName: `${tag} Beta`, industryId: '21', locationId: '32' },
      { companyName: `${tag} Gamma`, industryId: '22', locationId: '31' },
      { companyName: `${tag} Delta`, industryId: '22', locationId: '32', description: 'Drones for FARMERS' },
    ];
    beforeAll(async () => {
      for (const company of companies) await signedInCompany(t, company);
    }, 60_000);

    const matching = async (filter: Record<string, unknown>) => names(await allPages(t, STARTUPS, 'startups', { filter, first: 100 }));

    it('narrows by industryId alone', async () => {
      const nodes = await allPages(t, STARTUPS, 'startups', { filter: { industryId: '21' } });
      expect(nodes.every((node) => node.industry?.id === '21')).toBe(true);
      expect(names(nodes).filter((name) => name.startsWith(tag))).toEqual([`${tag} Beta`, `${tag} Alpha`]);
    });

    it('narrows by locationId alone', async () => {
      const nodes = await allPages(t, STARTUPS, 'startups', { filter: { locationId: '32' } });
      expect(nodes.every((node) => node.location?.id === '32')).toBe(true);
      expect(names(nodes).filter((name) => name.startsWith(tag))).toEqual([`${tag} Delta`, `${tag} Beta`]);
    });

    it('narrows by search alone', async () => {
      expect(await matching({ search: tag })).toEqual([`${tag} Delta`, `${tag} Gamma`, `${tag} Beta`, `${tag} Alpha`]);
    });

    it('combines industryId and locationId', async () => {
      const nodes = await allPages(t, STARTUPS, 'startups', { filter: { industryId: '22', locationId: '31' } });
      expect(nodes.every((node) => node.industry?.id === '22' && node.location?.id === '31')).toBe(true);
      expect(names(nodes).filter((name) => name.startsWith(tag))).toEqual([`${tag} Gamma`]);
    });

    it('combines all three filters', async () => {
      expect(await matching({ industryId: '21', locationId: '32', search: tag })).toEqual([`${tag} Beta`]);
      expect(await matching({ industryId: '22', search: tag })).toEqual([`${tag} Delta`, `${tag} Gamma`]);
      expect(await matching({ locationId: '31', search: `${tag} alpha` })).toEqual([`${tag} Alpha`]);
      expect(await matching({ industryId: '21', locationId: '31', search: 'farmers' })).toEqual([]);
    });

    it('treats null and blank filters as absent', async () => {
      expect(await matching({ industryId: null, locationId: null, search: `  ${tag}  ` })).toHaveLength(4);
      const unfiltered = await startups({ filter: { search: '   ' }, first: 1 });
      expect(unfiltered.edges).toHaveLength(1);
    });

    it('answers an empty page for ids that exist nowhere', async () => {
      expect((await startups({ filter: { industryId: '999999' } })).edges).toEqual([]);
      expect((await startups({ filter: { locationId: '999999' } })).edges).toEqual([]);
    });

    it.each([
      ['filter.industryId', { industryId: 'abc' }],
      ['filter.locationId', { locationId: '-1' }],
      ['filter.search', { search: 'x'.repeat(101) }],
    ])('rejects a malformed %s with BAD_USER_INPUT', async (field, filter) => {
      const result = await t.gql(STARTUPS, { filter });
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
      expect(Object.keys(fieldErrors(result) ?? {})).toEqual([field]);
    });
  });

  describe('search', () => {
    const tag = uniqueTag('Srch');
    beforeAll(async () => {
      await signedInCompany(t, { companyName: `FinTech Payments ${tag}` });
      await signedInCompany(t, { companyName: `Green Fields ${tag}`, description: 'Soil sensors and irrigation for small farms.' });
      await signedInCompany(t, { companyName: `Percent_Off ${tag}`, description: 'Coupons: 100% off, under_scored.' });
    }, 60_000);

    const found = async (search: string) =>
      names(await allPages(t, STARTUPS, 'startups', { filter: { search: `${search} ${tag}` } }))
        .map((name) => name.replace(` ${tag}`, ''))
        .sort();

    it('matches the company name case-insensitively', async () => {
      expect(await found('fintech payments')).toEqual(['FinTech Payments']);
      expect(await found('FINTECH')).toEqual(['FinTech Payments']);
    });

    it('matches parts of words, as people type them', async () => {
      expect(await found('fin')).toEqual(['FinTech Payments']);
      expect(await found('tech')).toEqual(['FinTech Payments']);
      expect(await found('paym')).toEqual(['FinTech Payments']);
    });

    it('matches the description', async () => {
      expect(await found('irrigation')).toEqual(['Green Fields']);
      expect(await found('SENSORS')).toEqual(['Green Fields']);
    });

    it('needs every word, in the name or the description', async () => {
      expect(await found('green soil')).toEqual(['Green Fields']);
      expect(await found('green payments')).toEqual([]);
    });

    it('finds % and _ literally, not as wildcards', async () => {
      expect(await found('100%')).toEqual(['Percent_Off']);
      expect(await found('e_c')).toEqual([]);
      expect(await found('under_scored')).toEqual(['Percent_Off']);
      expect(await found('%')).toEqual(['Percent_Off']);
    });

    it('finds nothing for words that occur nowhere', async () => {
      expect(await found('zzzqqq')).toEqual([]);
    });
  });

  describe('pagination', () => {
    it('pages through every row once, in order, while new startups arrive between pages', async () => {
      const tag = uniqueTag('Page');
      const expected = await insertProfiles(t, { role: 'STARTUP', count: 23, namePrefix: tag });
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await startups({ first: 4, after, filter: { search: tag } });
        pages += 1;
        seen.push(...page.edges.map((edge) => edge.node.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
        // A newer startup appears between every two pages; it sorts before the cursor.
        await signedInCompany(t, { companyName: `${tag} late ${pages}` });
      }
      expect(pages).toBe(6);
      expect(seen).toEqual(expected);

      const fresh = await allPages(t, STARTUPS, 'startups', { first: 100, filter: { search: tag } });
      expect(fresh).toHaveLength(23 + 5);
      expect(names(fresh.slice(0, 5))).toEqual([5, 4, 3, 2, 1].map((n) => `${tag} late ${n}`));
    });

    it('gives 20 by default and caps first at 100', async () => {
      const tag = uniqueTag('Cap');
      const expected = await insertProfiles(t, { role: 'STARTUP', count: 105, namePrefix: tag });
      const byDefault = await startups({ filter: { search: tag } });
      expect(byDefault.edges.map((edge) => edge.node.id)).toEqual(expected.slice(0, 20));
      expect(byDefault.pageInfo.hasNextPage).toBe(true);

      const capped = await startups({ first: 1000, filter: { search: tag } });
      expect(capped.edges.map((edge) => edge.node.id)).toEqual(expected.slice(0, 100));
      expect(capped.pageInfo).toEqual({ hasNextPage: true, endCursor: capped.edges[99]!.cursor });

      const rest = await startups({ first: 1000, after: capped.pageInfo.endCursor, filter: { search: tag } });
      expect(rest.edges.map((edge) => edge.node.id)).toEqual(expected.slice(100));
      expect(rest.pageInfo.hasNextPage).toBe(false);
    });

    it('answers an empty page for first: 0 and for a cursor past the end', async () => {
      const tag = uniqueTag('Edge');
      await insertProfiles(t, { role: 'STARTUP', count: 2, namePrefix: tag });
      const none = await startups({ first: 0, filter: { search: tag } });
      expect(none).toEqual({ edges: [], pageInfo: { hasNextPage: true, endCursor: null } });
      const all = await startups({ first: 2, filter: { search: tag } });
      expect(all.pageInfo.hasNextPage).toBe(false);
      const after = await startups({ after: all.pageInfo.endCursor, filter: { search: tag } });
      expect(after).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    });

    it('rejects a negative first with BAD_USER_INPUT', async () => {
      const result = await t.gql(STARTUPS, { first: -1 });
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
      expect(Object.keys(fieldErrors(result) ?? {})).toEqual(['first']);
    });

    it.each([
      ['garbage', 'not a cursor'],
      ['base64 of something else', Buffer.from('{"id":1}').toString('base64url')],
      ['a cursor with a bad id', Buffer.from(JSON.stringify([new Date().toISOString(), 'drop table'])).toString('base64url')],
      ['a cursor with a bad date', Buffer.from(JSON.stringify(['yesterday', '00000000-0000-4000-8000-000000000000'])).toString('base64url')],
      ['an empty string', ''],
    ])('rejects %s as a cursor with BAD_USER_INPUT', async (_name, after) => {
      const result = await t.gql(STARTUPS, { after });
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
      expect(Object.keys(fieldErrors(result) ?? {})).toEqual(['after']);
    });
  });
});

describe('investors', () => {
  const tag = uniqueTag('Inv');
  let ids: string[] = [];
  beforeAll(async () => {
    const first = await signedInCompany(t, { role: 'INVESTOR', companyName: `${tag} Seed Fund`, locationId: '33' });
    const second = await signedInCompany(t, { role: 'INVESTOR', companyName: `${tag} Growth Partners`, locationId: '34', description: 'Series B in climate.' });
    const third = await signedInCompany(t, { role: 'INVESTOR', companyName: `${tag} Angels`, locationId: '33' });
    ids = [third.profileId, second.profileId, first.profileId];
  }, 60_000);

  const investorNames = async (variables: Record<string, unknown>) => names(await allPages(t, INVESTORS, 'investors', variables));

  it('lists investors newest first, never startups', async () => {
    await signedInCompany(t, { companyName: `${tag} A Startup` });
    const nodes = await allPages(t, INVESTORS, 'investors', { filter: { search: tag } });
    expect(nodes.map((node) => node.id)).toEqual(ids);
  });

  it('narrows by locationId alone', async () => {
    const nodes = await allPages(t, INVESTORS, 'investors', { filter: { locationId: '33' } });
    expect(nodes.every((node) => node.location?.id === '33')).toBe(true);
    expect(names(nodes).filter((name) => name.startsWith(tag))).toEqual([`${tag} Angels`, `${tag} Seed Fund`]);
  });

  it('searches the name and the description, combined with locationId', async () => {
    expect(await investorNames({ filter: { search: `${tag} CLIMATE` } })).toEqual([`${tag} Growth Partners`]);
    expect(await investorNames({ filter: { search: `${tag} fund`, locationId: '33' } })).toEqual([`${tag} Seed Fund`]);
    expect(await investorNames({ filter: { search: `${tag} fund`, locationId: '34' } })).toEqual([]);
  });

  it('pages with cursors, and rejects bad input like startups', async () => {
    const first = await t.gql<{ investors: Page }>(INVESTORS, { first: 2, filter: { search: tag } });
    expect(first.data?.investors.edges.map((edge) => edge.node.id)).toEqual(ids.slice(0, 2));
    expect(first.data?.investors.pageInfo.hasNextPage).toBe(true);
    const second = await t.gql<{ investors: Page }>(INVESTORS, { first: 2, after: first.data?.investors.pageInfo.endCursor, filter: { search: tag } });
    expect(second.data?.investors.edges.map((edge) => edge.node.id)).toEqual(ids.slice(2));
    expect(second.data?.investors.pageInfo.hasNextPage).toBe(false);

    expect(errorCode(await t.gql(INVESTORS, { after: 'nope' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(INVESTORS, { first: -5 }))).toBe('BAD_USER_INPUT');
    expect(fieldErrors(await t.gql(INVESTORS, { filter: { locationId: 'x' } }))).toEqual({ 'filter.locationId': expect.any(String) });
  });

  it('caps first at 100', async () => {
    const bulk = uniqueTag('InvCap');
    const expected = await insertProfiles(t, { role: 'INVESTOR', count: 101, namePrefix: bulk });
    const page = await t.gql<{ investors: Page }>(INVESTORS, { first: 101, filter: { search: bulk } });
    expect(page.data?.investors.edges.map((edge) => edge.node.id)).toEqual(expected.slice(0, 100));
    expect(page.data?.investors.pageInfo.hasNextPage).toBe(true);
  });
});

describe('updateStartupProfile', () => {
  it('lets the owner change every field and shows the change to everyone', async () => {
    const owner = await signedInCompany(t, { companyName: 'Before', industryId: '1', locationId: '1' });
    const input = {
      companyName: '  After Inc  ',
      website: 'https://after.example.org/about',
      description: 'Line one.\nLine two.',
      industryId: '5',
      locationId: '23',
    };
    const result = await t.gql(UPDATE_STARTUP, { input }, { token: owner.tokens.accessToken });
    const expected = {
      id: owner.profileId,
      companyName: 'After Inc',
      website: 'https://after.example.org/about',
      description: 'Line one.\nLine two.',
      createdAt: expect.any(String),
      industry: { id: '5', name: 'CleanTech' },
      location: { id: '23', country: 'Germany', city: 'Berlin' },
      owner: { id: owner.id, email: owner.email, role: 'STARTUP', firstName: 'Olena' },
    };
    expect(result.data).toEqual({ updateStartupProfile: expected });
    expect((await t.gql(STARTUP, { id: owner.profileId })).data).toEqual({ startup: { ...expected, owner: { ...expected.owner, email: null } } });
  });

  it('leaves absent fields as they are', async () => {
    const owner = await signedInCompany(t, { companyName: 'Keep Me', industryId: '3', locationId: '4', description: 'Kept.' });
    const result = await t.gql(UPDATE_STARTUP, { input: { website: 'https://new.example.com' } }, { token: owner.tokens.accessToken });
    expect(result.data?.updateStartupProfile).toMatchObject({
      companyName: 'Keep Me',
      website: 'https://new.example.com',
      description: 'Kept.',
      industry: { id: '3' },
      location: { id: '4' },
    });
    const nothing = await t.gql(UPDATE_STARTUP, { input: {} }, { token: owner.tokens.accessToken });
    expect(nothing.data?.updateStartupProfile).toMatchObject({ companyName: 'Keep Me', website: 'https://new.example.com' });
  });

  it('clears description, industry and location on explicit null, and description on ""', async () => {
    const owner = await signedInCompany(t, { industryId: '3', locationId: '4', description: 'Soon gone.' });
    const cleared = await t.gql(UPDATE_STARTUP, { input: { description: null, industryId: null, locationId: null } }, { token: owner.tokens.accessToken });
    expect(cleared.data?.updateStartupProfile).toMatchObject({ description: null, industry: null, location: null });

    await t.gql(UPDATE_STARTUP, { input: { description: 'Back again.' } }, { token: owner.tokens.accessToken });
    const blank = await t.gql(UPDATE_STARTUP, { input: { description: '   ' } }, { token: owner.tokens.accessToken });
    expect(blank.data?.updateStartupProfile).toMatchObject({ description: null });
  });

  it('makes an edited description searchable at once', async () => {
    const tag = uniqueTag('Edited');
    const owner = await signedInCompany(t);
    expect((await startups({ filter: { search: tag } })).edges).toEqual([]);
    await t.gql(UPDATE_STARTUP, { input: { description: `Now about ${tag}.` } }, { token: owner.tokens.accessToken });
    expect((await startups({ filter: { search: tag } })).edges.map((edge) => edge.node.id)).toEqual([owner.profileId]);
  });

  it.each([
    ['companyName', { companyName: null }],
    ['companyName', { companyName: '   ' }],
    ['companyName', { companyName: 'x'.repeat(201) }],
    ['companyName', { companyName: 'Bad\u0007Bell' }],
    ['website', { website: null }],
    ['website', { website: 'ftp://example.com' }],
    ['website', { website: 'javascript:alert(1)' }],
    ['website', { website: 'not a url' }],
    ['description', { description: 'x'.repeat(5001) }],
    ['description', { description: 'nul\u0000byte' }],
    ['industryId', { industryId: 'abc' }],
    ['industryId', { industryId: '999999' }],
    ['locationId', { locationId: '0' }],
    ['locationId', { locationId: '999999' }],
  ])('rejects a bad %s with BAD_USER_INPUT naming the field and changes nothing (%j)', async (field, input) => {
    const owner = await signedInCompany(t, { companyName: 'Unchanged', industryId: '2', locationId: '2', description: 'Same.' });
    const result = await t.gql(UPDATE_STARTUP, { input }, { token: owner.tokens.accessToken });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(Object.keys(fieldErrors(result) ?? {})).toEqual([field]);
    expect(fieldErrors(result)?.[field]).toEqual(expect.any(String));
    expect((await t.gql(STARTUP, { id: owner.profileId })).data?.startup).toMatchObject({
      companyName: 'Unchanged',
      website: 'https://example.com',
      description: 'Same.',
      industry: { id: '2' },
      location: { id: '2' },
    });
  });

  it('reports every bad field at once', async () => {
    const owner = await signedInCompany(t);
    const result = await t.gql(
      UPDATE_STARTUP,
      { input: { companyName: null, website: 'nope', industryId: 'x', locationId: '999999' } },
      { token: owner.tokens.accessToken },
    );
    expect(Object.keys(fieldErrors(result) ?? {}).sort()).toEqual(['companyName', 'industryId', 'website']);
  });

  it('is FORBIDDEN for an investor, even with bad input', async () => {
    const investor = await signedInCompany(t, { role: 'INVESTOR', companyName: 'Not A Startup' });
    for (const input of [{ companyName: 'Taken Over' }, { website: 'nope' }]) {
      const result = await t.gql(UPDATE_STARTUP, { input }, { token: investor.tokens.accessToken });
      expect(errorCode(result)).toBe('FORBIDDEN');
      expect(result.data).toBeNull();
    }
    expect((await t.gql(INVESTOR, { id: investor.profileId })).data?.investor).toMatchObject({ companyName: 'Not A Startup' });
  });

  it('is UNAUTHENTICATED without a token', async () => {
    const result = await t.gql(UPDATE_STARTUP, { input: { companyName: 'Anonymous' } });
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
  });

  it("changes only the viewer's own profile", async () => {
    const owner = await signedInCompany(t, { companyName: 'Mine' });
    const other = await signedInCompany(t, { companyName: 'Theirs' });
    await t.gql(UPDATE_STARTUP, { input: { companyName: 'Mine, renamed' } }, { token: owner.tokens.accessToken });
    expect((await t.gql(STARTUP, { id: other.profileId })).data?.startup).toMatchObject({ companyName: 'Theirs' });
    expect((await t.gql(STARTUP, { id: owner.profileId })).data?.startup).toMatchObject({ companyName: 'Mine, renamed' });
  });
});

describe('updateInvestorProfile', () => {
  it('lets the owner change fields, keeps absent ones and clears on null', async () => {
    const owner = await signedInCompany(t, { role: 'INVESTOR', companyName: 'Fund One', locationId: '5' });
    const token = owner.tokens.accessToken;
    const changed = await t.gql(UPDATE_INVESTOR, { input: { companyName: 'Fund Two', description: 'Pre-seed.' } }, { token });
    expect(changed.data?.updateInvestorProfile).toMatchObject({
      companyName: 'Fund Two',
      description: 'Pre-seed.',
      website: 'https://example.com',
      location: { id: '5' },
    });
    const cleared = await t.gql(UPDATE_INVESTOR, { input: { description: null, locationId: null } }, { token });
    expect(cleared.data?.updateInvestorProfile).toMatchObject({ companyName: 'Fund Two', description: null, location: null });
    expect((await t.gql(INVESTOR, { id: owner.profileId })).data?.investor).toMatchObject({ companyName: 'Fund Two', description: null, location: null });
  });

  it.each([
    ['companyName', { companyName: null }],
    ['website', { website: 'http://localhost' }],
    ['description', { description: 'x'.repeat(5001) }],
    ['locationId', { locationId: '999999' }],
  ])('rejects a bad %s with BAD_USER_INPUT (%j)', async (field, input) => {
    const owner = await signedInCompany(t, { role: 'INVESTOR' });
    const result = await t.gql(UPDATE_INVESTOR, { input }, { token: owner.tokens.accessToken });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(Object.keys(fieldErrors(result) ?? {})).toEqual([field]);
  });

  it('has no industry to set', async () => {
    const owner = await signedInCompany(t, { role: 'INVESTOR' });
    const result = await t.gql(UPDATE_INVESTOR, { input: { industryId: '1' } }, { token: owner.tokens.accessToken });
    expect(result.errors?.[0]?.message).toMatch(/industryId/);
  });

  it('is FORBIDDEN for a startup and UNAUTHENTICATED without a token', async () => {
    const startup = await signedInCompany(t);
    expect(errorCode(await t.gql(UPDATE_INVESTOR, { input: { companyName: 'X' } }, { token: startup.tokens.accessToken }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(UPDATE_INVESTOR, { input: { companyName: 'X' } }))).toBe('UNAUTHENTICATED');
  });
});

describe('statement count', () => {
  it('resolves 100 startups with owner, industry and location in as few statements as 10', async () => {
    const tag = uniqueTag('Count');
    await insertProfiles(t, { role: 'STARTUP', count: 100, namePrefix: tag });
    // A second instance of the deployment: every statement it runs belongs to the measured request.
    const quiet = await startCountedApp({ db: t.db, inbox: t.inbox });
    try {
      const query = /* GraphQL */ `
        query ($first: Int, $filter: StartupFilter) {
          startups(first: $first, filter: $filter) {
            edges { node { id companyName owner { id firstName role startupProfile { id } } industry { id name } location { id city } } }
          }
        }
      `;
      const statementsFor = (first: number) =>
        quiet.statements.during(async () => {
          const result = await quiet.gql<{ startups: Page }>(query, { first, filter: { search: tag } });
          expect(result.data?.startups.edges).toHaveLength(first);
        });
      await statementsFor(100); // warms the pool up
      const ten = await statementsFor(10);
      const hundred = await statementsFor(100);
      // The page, then one batch each for owners, their profiles, industries and locations.
      expect(hundred).toHaveLength(ten.length);
      expect(hundred.length).toBeLessThanOrEqual(5);
      expect(hundred.every((sql) => /^select /i.test(sql))).toBe(true);
    } finally {
      await quiet.stop();
    }
  });
});
