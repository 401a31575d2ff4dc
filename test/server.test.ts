import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printSortedSchema } from '../src/graphql/schema.js';
import { ConfigError, parseConfig } from '../src/env.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { withClient } from './helpers/database.js';
import { captureLogs } from './helpers/logs.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

describe('server', () => {
  it('answers /health with 200 and status ok while the database answers', async () => {
    const response = await fetch(`${t.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves GraphiQL at GET /graphql with every asset inline (no external URL)', async () => {
    const response = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('Forum API');
    expect(html).toMatch(/graphiql/i);
    const external = [...html.matchAll(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//gi)];
    expect(external).toEqual([]);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|esm\.sh/);
  });

  it('lists industries and locations, including the Ukrainian cities of the original platform', async () => {
    const result = await t.gql<{ industries: { id: string; name: string }[]; locations: { country: string; city: string | null }[] }>(
      '{ industries { id name } locations { id country city } }',
    );
    const industries = result.data!.industries.map((i) => i.name);
    expect(industries.length).toBeGreaterThanOrEqual(20);
    expect(industries).toEqual(expect.arrayContaining(['FinTech', 'HealthTech', 'AgriTech']));
    const ukrainian = result.data!.locations.filter((l) => l.country === 'Ukraine').map((l) => l.city);
    expect(ukrainian).toEqual(expect.arrayContaining(['Kyiv', 'Lviv', 'Odesa', 'Ivano-Frankivsk', 'Rivne', 'Ternopil', 'Sumy']));
  });

  it("tags every request with an id: the client's X-Request-Id when sane, a new one otherwise", async () => {
    const given = await fetch(`${t.url}/health`, { headers: { 'x-request-id': 'trace-42.a_b' } });
    expect(given.headers.get('x-request-id')).toBe('trace-42.a_b');
    const odd = await fetch(`${t.url}/health`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('masks unexpected errors and keeps expected ones', async () => {
    const logs = captureLogs('info');
    const other = await startTestApp({ inbox: t.inbox, buildOptions: { logger: logs.logger } });
    try {
      // An expected error keeps its message and code.
      const invalid = await other.gql('{ nope }');
      expect(invalid.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(invalid.errors?.[0]?.message).toMatch(/nope/);
      // A broken schema makes the resolver fail in a way no rule expects.
      await withClient(other.db.url, (client) => client.query('alter table "industry" rename to "industry_gone"'));
      const broken = await other.gql('{ industries { id } }');
      expect(broken.errors).toHaveLength(1);
      expect(broken.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(broken)).not.toContain('industry_gone');
      // The real cause is in the log, not in the response.
      expect(logs.text()).toContain('42P01'); // undefined_table, with PostgreSQL's code
    } finally {
      await other.stop();
    }
  });

  it('turns /health to 503 when the database is gone', async () => {
    const other = await startTestApp({ inbox: t.inbox });
    try {
      expect((await fetch(`${other.url}/health`)).status).toBe(200);
      await other.db.drop();
      const response = await fetch(`${other.url}/health`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: 'unavailable' });
    } finally {
      await other.app.stop();
    }
  });
});

describe('schema.graphql', () => {
  it('matches the Pothos schema (run `npm run schema` after changing it)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSortedSchema());
  });
});

describe('configuration', () => {
  it('lists every problem at once', () => {
    try {
      parseConfig({ PORT: 'abc', ACCESS_TOKEN_TTL: '-1', APP_URL: 'nope', JWT_SECRET: 'short' });
      expect.fail('bad config was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'ACCESS_TOKEN_TTL', 'APP_URL', 'JWT_SECRET']) expect(problems).toContain(name);
    }
  });

  it('requires JWT_SECRET in production and accepts no default', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(parseConfig({ NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(40) }).JWT_SECRET).toBe('p'.repeat(40));
  });

  it('generates a development secret once and keeps it', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'forum-env-'));
    const first = parseConfig({ DATA_DIR: dir }).JWT_SECRET;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(parseConfig({ DATA_DIR: dir }).JWT_SECRET).toBe(first);
  });

  it('turns GraphiQL off by default in production', () => {
    expect(parseConfig({ NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(40) }).GRAPHIQL).toBe(false);
    expect(parseConfig({ NODE_ENV: 'development', DATA_DIR: '.data' }).GRAPHIQL).toBe(true);
  });
});
