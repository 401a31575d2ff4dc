import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('production-like settings', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { GRAPHIQL: 'false', INTROSPECTION: 'false', CORS_ORIGINS: 'https://app.example.com' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('refuses introspection when INTROSPECTION=false', async () => {
    const result = await t.gql('{ __schema { types { name } } }');
    expect(result.errors?.[0]?.message).toMatch(/introspection/i);
    expect((await t.gql('{ industries { id } }')).errors).toBeUndefined();
  });

  it('serves no GraphiQL when GRAPHIQL=false', async () => {
    const response = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toMatch(/graphiql/i);
  });

  it('allows only CORS_ORIGINS in CORS preflights', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const denied = await preflight('https://evil.example.net');
    expect(denied.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.net');
    expect(denied.headers.get('access-control-allow-origin')).not.toBe('*');
  });
});
