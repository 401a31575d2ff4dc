import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { rawSocket } from './helpers/ws.js';
import { withTimeout } from './helpers/time.js';

// API.md, WebSocket connections: CORS_ORIGINS set allows exactly those browser origins; unset,
// every origin in development and none in production. Answers carry Vary: Origin, preflights a
// Max-Age, and WebSocket upgrades follow the same rule (clients without Origin always pass).

const APP = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

let development: TestApp;
let production: TestApp;
let listed: TestApp;
let listedProduction: TestApp;
beforeAll(async () => {
  development = await startTestApp({ env: { NODE_ENV: 'development' } });
  const shared = { db: development.db, inbox: development.inbox };
  [production, listed, listedProduction] = await Promise.all([
    startTestApp({ ...shared, env: { NODE_ENV: 'production' } }),
    startTestApp({ ...shared, env: { NODE_ENV: 'development', CORS_ORIGINS: `${APP},http://localhost:3000` } }),
    startTestApp({ ...shared, env: { NODE_ENV: 'production', CORS_ORIGINS: APP } }),
  ]);
});
afterAll(async () => {
  await Promise.all([production?.stop(), listed?.stop(), listedProduction?.stop()]);
  await development?.stop();
});

const preflight = (t: TestApp, origin: string) =>
  fetch(`${t.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
  });

const post = (t: TestApp, origin?: string) =>
  fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
    body: JSON.stringify({ query: '{ industries { id } }' }),
  });

/** The HTTP status of a WebSocket upgrade: 101 when it opened, else the refusal's status. */
async function upgradeStatus(t: TestApp, origin?: string): Promise<number> {
  const raw = rawSocket(t.wsUrl, origin ? { origin } : {});
  const status = await withTimeout(Promise.race([raw.opened.then(() => 101), raw.rejectedStatus]), 5_000, 'the upgrade answer');
  raw.socket.terminate();
  return status;
}

const varyOf = (response: Response) => (response.headers.get('vary') ?? '').split(/\s*,\s*/).map((v) => v.toLowerCase());

describe('CORS_ORIGINS unset, development: every origin', () => {
  it('answers a preflight for any origin, with Max-Age and Vary: Origin', async () => {
    const response = await preflight(development, OTHER);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(OTHER);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThanOrEqual(600);
    expect(varyOf(response)).toContain('origin');
  });

  it('echoes the origin on answers and marks even an answer without Origin as varying by it', async () => {
    const withOrigin = await post(development, 'http://localhost:5173');
    expect(withOrigin.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(varyOf(withOrigin)).toContain('origin');
    const withoutOrigin = await post(development);
    expect(withoutOrigin.headers.get('access-control-allow-origin')).toBeNull();
    expect(varyOf(withoutOrigin)).toContain('origin');
  });

  it('upgrades a WebSocket from any origin', async () => {
    expect(await upgradeStatus(development, OTHER)).toBe(101);
  });
});

describe('CORS_ORIGINS unset, production: no browser origin', () => {
  it('gives a preflight no CORS headers, so the browser refuses', async () => {
    const response = await preflight(production, APP);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('serves the request but lets no page read it', async () => {
    const response = await post(production, APP);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a WebSocket upgrade that carries an Origin with 403, and allows one without', async () => {
    expect(await upgradeStatus(production, APP)).toBe(403);
    expect(await upgradeStatus(production)).toBe(101);
  });

  it('upgrades a WebSocket from a page of the API itself (the web client at /app): same origin is no cross-site request', async () => {
    expect(await upgradeStatus(production, new URL(production.url).origin)).toBe(101);
  });
});

describe('CORS_ORIGINS set: exactly the listed origins', () => {
  it.each([
    ['development', () => listed],
    ['production', () => listedProduction],
  ])('allows a listed origin in %s, by preflight and upgrade', async (_mode, app) => {
    const response = await preflight(app(), APP);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThanOrEqual(600);
    expect(varyOf(response)).toContain('origin');
    expect(await upgradeStatus(app(), APP)).toBe(101);
    expect(await upgradeStatus(app())).toBe(101);
  });

  it.each([
    ['development', () => listed],
    ['production', () => listedProduction],
  ])('refuses an unlisted origin in %s, by preflight and upgrade', async (_mode, app) => {
    const response = await preflight(app(), OTHER);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(varyOf(response)).toContain('origin');
    const answer = await post(app(), OTHER);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(varyOf(answer)).toContain('origin');
    expect(await upgradeStatus(app(), OTHER)).toBe(403);
  });

  it('matches exactly: http://127.0.0.1:3000 is not http://localhost:3000', async () => {
    expect((await preflight(listed, 'http://localhost:3000')).headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect((await preflight(listed, 'http://127.0.0.1:3000')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(listed, 'http://localhost:3001')).headers.get('access-control-allow-origin')).toBeNull();
    expect(await upgradeStatus(listed, 'http://127.0.0.1:3000')).toBe(403);
  });
});
