import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { parseConfig } from '../src/env.js';
import { MAX_OPERATIONS_PER_CONNECTION } from '../src/ws/ws-server.js';
import { TEST_SECRET, startTestApp, type TestApp } from './helpers/app.js';
import { LOGOUT, LOGOUT_ALL, ME } from './helpers/graphql.js';
import { INBOX, MESSAGE_SENT, chatPair, sendMessage } from './helpers/chat.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { login, signedInUser, untilAccessExpired } from './helpers/factories.js';
import { test, type Sockets } from './helpers/fixtures.js';
import { rawSocket, subscribe, wsRequest, type WsConnectOptions } from './helpers/ws.js';
import { eventually, whenLive, withTimeout } from './helpers/time.js';
import { captureLogs } from './helpers/logs.js';

/** Connects and returns how the server closed the socket (it must close it). */
const refusal = async (sockets: Sockets, url: string, options: WsConnectOptions) => {
  const connection = sockets.attempt(url, options);
  const acked = connection.acknowledged.then(() => 'acknowledged');
  const outcome = await withTimeout(Promise.race([connection.closed, acked]), 5_000, 'the server to close the socket');
  return outcome;
};

describe('WebSocket connection authentication', () => {
  test('acknowledges a connection with a valid access token in ?token=', async ({ app: t, sockets }) => {
    const user = await signedInUser(t);
    const connection = await sockets.connect(t, { token: user.tokens.accessToken });
    const me = await wsRequest<{ me: { id: string; email: string } }>(connection.client, '{ me { id email } }');
    expect(me.data?.me).toEqual({ id: user.id, email: user.email });
  });

  test('acknowledges a connection with connectionParams.authorization "Bearer <token>" and no token in the URL', async ({ app: t, sockets }) => {
    const user = await signedInUser(t, { role: 'INVESTOR' });
    const connection = await sockets.connect(t, { connectionParams: { authorization: `Bearer ${user.tokens.accessToken}` } });
    const me = await wsRequest<{ me: { id: string } }>(connection.client, ME);
    expect(me.data?.me.id).toBe(user.id);
  });

  test('closes a connection without a token with 4403 "missing token"', async ({ app: t, sockets }) => {
    expect(await refusal(sockets, t.wsUrl, {})).toEqual({ code: 4403, reason: 'missing token' });
  });

  test.for<[string, WsConnectOptions]>([
    ['garbage in ?token=', { token: 'not-a-jwt' }],
    ['garbage in connectionParams', { connectionParams: { authorization: 'Bearer not-a-jwt' } }],
    ['connectionParams.authorization without "Bearer"', { connectionParams: { authorization: 'Token abc' } }],
    ['connectionParams.authorization that is not a string', { connectionParams: { authorization: 42 } }],
  ])('closes a connection with %s with 4403 "invalid token"', async ([, options], { app: t, sockets }) => {
    expect(await refusal(sockets, t.wsUrl, options)).toEqual({ code: 4403, reason: 'invalid token' });
  });

  test('closes a connection that presents a refresh token with 4403 "invalid token"', async ({ app: t, sockets }) => {
    const user = await signedInUser(t);
    expect(await refusal(sockets, t.wsUrl, { token: user.tokens.refreshToken })).toEqual({ code: 4403, reason: 'invalid token' });
  });

  test('closes a connection whose session was revoked with 4403 "token revoked"', async ({ app: t, sockets }) => {
    const user = await signedInUser(t);
    const result = await t.gql(LOGOUT, { refreshToken: user.tokens.refreshToken }, { token: user.tokens.accessToken });
    expect(result.errors).toBeUndefined();
    expect(await refusal(sockets, t.wsUrl, { token: user.tokens.accessToken })).toEqual({ code: 4403, reason: 'token revoked' });
  });

  test('closes a connection that sends no connection_init within 3 seconds with 4408', async ({ app: t }) => {
    const user = await signedInUser(t);
    const raw = rawSocket(`${t.wsUrl}?token=${user.tokens.accessToken}`);
    await raw.opened;
    const startedAt = Date.now();
    const closed = await withTimeout(raw.closed, 6_000, 'the init timeout');
    expect(closed.code).toBe(4408);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2_500);
    expect(raw.messages).toEqual([]);
  });

  test('runs no operation before the connection is acknowledged', async ({ app: t }) => {
    const raw = rawSocket(t.wsUrl);
    await raw.opened;
    raw.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: ME } }));
    const closed = await withTimeout(raw.closed, 5_000, 'the close');
    expect(closed.code).toBe(4401);
    expect(raw.messages).toEqual([]);
  });
});

describe('WebSocket connections and sessions', () => {
  test("closes the socket of a session within a second of its logout, and keeps the same user's other session connected", async ({ app: t, sockets }) => {
    const user = await signedInUser(t, { role: 'STARTUP' });
    const otherSession = await login(t, user);
    const leaving = await sockets.connect(t, { token: user.tokens.accessToken });
    const staying = await sockets.connect(t, { token: otherSession.accessToken });

    const startedAt = Date.now();
    const result = await t.gql(LOGOUT, { refreshToken: user.tokens.refreshToken }, { token: user.tokens.accessToken });
    expect(result.errors).toBeUndefined();
    expect(await withTimeout(leaving.closed, 1_000, 'the logged-out socket to close')).toEqual({ code: 4403, reason: 'token revoked' });
    expect(Date.now() - startedAt).toBeLessThan(1_000);

    // The revocation closed `leaving` already; a round trip on `staying` after that shows it survived it.
    const me = await wsRequest<{ me: { id: string } }>(staying.client, ME);
    expect(me.data?.me.id).toBe(user.id);
    expect(staying.isOpen()).toBe(true);
  });

  test('closes every socket of the user on logoutAll', async ({ app: t, sockets }) => {
    const user = await signedInUser(t);
    const second = await login(t, user);
    const a = await sockets.connect(t, { token: user.tokens.accessToken });
    const b = await sockets.connect(t, { connectionParams: { authorization: `Bearer ${second.accessToken}` } });
    await t.gql(LOGOUT_ALL, {}, { token: second.accessToken });
    expect(await withTimeout(a.closed, 1_000, 'socket a')).toEqual({ code: 4403, reason: 'token revoked' });
    expect(await withTimeout(b.closed, 1_000, 'socket b')).toEqual({ code: 4403, reason: 'token revoked' });
  });

  test(`refuses operations beyond ${MAX_OPERATIONS_PER_CONNECTION} at once on one connection, and keeps the socket open`, async ({ app: t, sockets }) => {
    const { investor, startup, conversationId } = await chatPair(t);
    const connection = await sockets.connect(t, { token: startup.tokens.accessToken });
    const subscriptions = Array.from({ length: MAX_OPERATIONS_PER_CONNECTION }, (_, i) =>
      i % 2 === 0 ? subscribe(connection.client, INBOX) : subscribe(connection.client, MESSAGE_SENT, { conversationId }),
    );
    await whenLive(
      () => sendMessage(t, investor, conversationId, 'probe'),
      () => subscriptions.every((subscription) => subscription.results.length > 0),
    );
    const extra = subscribe(connection.client, INBOX);
    const errors = await withTimeout(extra.error, 5_000, 'the refusal');
    expect(errors[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(connection.isOpen()).toBe(true);
    subscriptions[0]!.unsubscribe();
    // The freed slot serves the next operation once the server has processed the `complete`.
    const me = await eventually(async () => (await wsRequest<{ me: { id: string } }>(connection.client, ME)).data?.me, 'a freed operation slot');
    expect(me.id).toBe(startup.id);
  });

  test('closes a socket that sends a frame over 64 KB (1009)', async ({ app: t }) => {
    const user = await signedInUser(t);
    const raw = rawSocket(`${t.wsUrl}?token=${user.tokens.accessToken}`);
    await raw.opened;
    raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(70 * 1024) } }));
    expect((await withTimeout(raw.closed, 5_000, 'the close')).code).toBe(1009);
  });

  test('refuses an upgrade on any other path with 404', async ({ app: t }) => {
    const raw = rawSocket(t.wsUrl.replace('/graphql', '/elsewhere'));
    expect(await withTimeout(raw.rejectedStatus, 5_000, 'the refusal')).toBe(404);
  });
});

describe('WebSocket access token expiry', () => {
  let short: TestApp;
  beforeAll(async () => {
    short = await startTestApp({ env: { ACCESS_TOKEN_TTL: '1' } });
  });
  afterAll(async () => {
    await short?.stop();
  });

  test('closes an open socket with 4403 "token expired" when its access token expires', async ({ sockets }) => {
    const user = await signedInUser(short);
    // Tokens carry whole seconds: this one lives between 0 and 1 s from now; wait for a fresh second.
    const fresh = await login(short, user);
    const connection = sockets.attempt(short.wsUrl, { token: fresh.accessToken });
    const outcome = await withTimeout(Promise.race([connection.closed, connection.acknowledged.then(() => connection.closed)]), 3_000, 'the expiry close');
    expect(outcome).toEqual({ code: 4403, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(fresh.accessTokenExpiresAt).getTime() - 50);
  });

  test('closes a connection that presents an expired token with 4403 "token expired"', async ({ sockets }) => {
    const user = await signedInUser(short);
    await untilAccessExpired(short, user.tokens.accessToken);
    expect(await refusal(sockets, short.wsUrl, { token: user.tokens.accessToken })).toEqual({ code: 4403, reason: 'token expired' });
  });
});

describe('WebSocket origin check', () => {
  let guarded: TestApp;
  beforeAll(async () => {
    guarded = await startTestApp({ env: { CORS_ORIGINS: 'https://app.example.com,http://localhost:3000' } });
  });
  afterAll(async () => {
    await guarded?.stop();
  });

  test('refuses an upgrade from an origin that CORS_ORIGINS does not list with HTTP 403', async () => {
    const raw = rawSocket(guarded.wsUrl, { origin: 'https://evil.example.net' });
    expect(await withTimeout(raw.rejectedStatus, 5_000, 'the refusal')).toBe(403);
  });

  test('accepts an upgrade from a listed origin, and from a client that sends no Origin', async ({ sockets }) => {
    const user = await signedInUser(guarded);
    const listed = rawSocket(`${guarded.wsUrl}?token=${user.tokens.accessToken}`, { origin: 'https://app.example.com' });
    await listed.opened;
    listed.socket.send(JSON.stringify({ type: 'connection_init' }));
    await eventually(() => listed.messages.length > 0, 'the ack');
    expect(listed.messages).toEqual([{ type: 'connection_ack' }]);
    listed.socket.close();

    await sockets.connect(guarded, user.tokens.accessToken);
  });
});

describe('WebSocket logging', () => {
  let db: TestDatabase;
  let app: App;
  let wsUrl: string;
  const logs = captureLogs('debug');

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = parseConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      JWT_SECRET: TEST_SECRET,
      DATABASE_URL: db.url,
      DATABASE_POOL_MAX: db.kind === 'embedded' ? '4' : '10',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'forum-test-')),
    });
    app = await buildApp(config, { logger: logs.logger });
    const { port } = await app.start(0);
    wsUrl = `ws://127.0.0.1:${port}/graphql`;
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  test('never writes a ?token= from the connection URL to the log, accepted or refused', async ({ sockets }) => {
    const forged = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtbWFya2VyIn0.c2lnbmF0dXJlLW1hcmtlcg';
    const refused = sockets.attempt(wsUrl, { token: forged });
    expect(await withTimeout(refused.closed, 5_000, 'the refusal')).toMatchObject({ code: 4403 });
    const raw = rawSocket(`${wsUrl.replace('/graphql', '/other')}?token=${forged}`);
    await withTimeout(raw.rejectedStatus, 5_000, 'the 404');
    await eventually(() => logs.text().includes('websocket upgrade refused'), 'the refused upgrade in the log');
    const log = logs.text();
    expect(log).toContain('websocket upgrade');
    expect(log).toContain('?[redacted]');
    expect(log).not.toContain(forged);
    expect(log).not.toContain('c2lnbmF0dXJlLW1hcmtlcg');
  });
});
