import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { LOGIN, LOGOUT, ME, REFRESH, REGISTER } from '../helpers/graphql.js';
import { createActiveUser, login, registerInput } from '../helpers/factories.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { connectWs, connectedWs } from '../helpers/ws.js';
import { startAppWithCuttableRedis, type AppWithCuttableRedis } from '../helpers/instances.js';
import { redisAvailableFor } from '../helpers/redis.js';
import { eventually, withTimeout } from '../helpers/time.js';
import { captureLogs } from '../helpers/logs.js';

describe('PostgreSQL goes away under traffic and comes back', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    t = await startTestApp({ db: { ...db, url: proxy.proxied(db.url), drop: async () => {} } });
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.stop();
    await db?.drop();
  });

  it('fails requests with masked errors and /health 503 meanwhile, then recovers without a restart', async () => {
    const query = () => t.gql<{ industries: unknown[] }>('{ industries { id } }');
    const health = async () => (await fetch(`${t.url}/health`)).status;
    expect((await query()).data?.industries.length).toBeGreaterThan(0);
    expect(await health()).toBe(200);

    proxy.cut();
    let tried = 0;
    let failed = 0;
    const leaked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const result = await query();
      tried += 1;
      if (result.errors) {
        failed += 1;
        const [error] = result.errors;
        if (error?.extensions?.code !== 'INTERNAL_SERVER_ERROR' || error.message !== 'Unexpected error.') leaked.push(JSON.stringify(error));
      }
    }
    expect(await health()).toBe(503);
    expect(failed).toBe(tried);
    expect(leaked).toEqual([]);

    proxy.restore();
    let retries = 0;
    await eventually(
      async () => {
        if (!(await query()).errors) return true;
        retries++;
        return false;
      },
      'queries to succeed again',
      10_000,
      100,
    );
    expect(await health()).toBe(200);
    // Writes work again too: a registration goes through end to end.
    const input = registerInput();
    expect((await t.gql(REGISTER, { input })).data).toEqual({ register: { ok: true, message: expect.any(String) } });
    await t.inbox.waitForMail(input.email);
    console.info(`PostgreSQL outage: ${tried} requests tried, ${failed} masked errors, 0 leaked, recovered after ${retries} retries`);
  });
});

describe.skipIf(!redisAvailableFor('the Redis outage'))('Redis goes away', () => {
  let app: AppWithCuttableRedis;
  let t: TestApp;
  beforeAll(async () => {
    app = await startAppWithCuttableRedis();
    t = app.t;
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('keeps signing in, refusing revoked sessions and rate limiting on this instance, and reconnects', async () => {
    const { proxy } = app;
    const user = await createActiveUser(t);
    proxy.cut();
    const tokens = await login(t, user);
    expect((await t.gql(ME, {}, { token: tokens.accessToken })).data).toEqual({ me: { id: user.id } });
    await t.gql(LOGOUT, { refreshToken: tokens.refreshToken }, { token: tokens.accessToken });
    expect(errorCode(await t.gql(ME, {}, { token: tokens.accessToken }))).toBe('TOKEN_REVOKED');
    for (let i = 0; i < 10; i++) await t.gql(LOGIN, { email: user.email, password: 'wrong password' });
    expect(errorCode(await t.gql(LOGIN, { email: user.email, password: user.password }))).toBe('RATE_LIMITED');
    proxy.restore();
    // Proof of the reconnect: a witness instance on the same Redis (not behind the proxy) that
    // re-reads revocations from the database only hourly refuses a token revoked on this
    // instance only once this instance publishes to Redis again.
    const witness = await startTestApp({ db: t.db, inbox: t.inbox, env: { REDIS_URL: app.redisUrl, REVOCATION_SYNC_SECONDS: '3600' } });
    try {
      const other = await createActiveUser(t);
      const otherTokens = await login(t, other);
      expect((await witness.gql(ME, {}, { token: otherTokens.accessToken })).data).toEqual({ me: { id: other.id } });
      await t.gql(LOGOUT, { refreshToken: otherTokens.refreshToken }, { token: otherTokens.accessToken });
      await eventually(
        async () => errorCode(await witness.gql(ME, {}, { token: otherTokens.accessToken })) === 'TOKEN_REVOKED',
        'the revocation to reach the witness through Redis',
        15_000,
        50,
      );
    } finally {
      await witness.stop();
    }
  });
});

describe('logs', () => {
  it('never contain passwords, tokens or ?token= query strings', async () => {
    const logs = captureLogs('trace');
    const t = await startTestApp({ buildOptions: { logger: logs.logger } });
    try {
      const user = await createActiveUser(t);
      const tokens = await login(t, user);
      const refreshed = await t.gql<{ refreshToken: { accessToken: string; refreshToken: string } }>(REFRESH, { refreshToken: tokens.refreshToken });
      await t.gql(ME, {}, { token: 'garbage-token-value' });
      await fetch(`${t.url}/graphql?token=${tokens.accessToken}&query=${encodeURIComponent(ME)}`, {
        headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json' },
      });
      await t.gql('mutation($p: String!) { login(email: "nobody@example.com", password: $p) { accessToken } }', { p: user.password });
      const activation = t.inbox.mailsTo(user.email)[0]!.text.match(/token=([\w-]+)/)![1]!;
      const secrets = [
        user.password,
        tokens.accessToken,
        tokens.refreshToken,
        refreshed.data!.refreshToken.accessToken,
        refreshed.data!.refreshToken.refreshToken,
        activation,
      ];
      const log = logs.text();
      expect(logs.lines.length).toBeGreaterThan(10);
      for (const secret of secrets) expect(log).not.toContain(secret);
      expect(log).not.toMatch(/[?&]token=[\w.-]{10,}/);
      console.info(`log scan: ${logs.lines.length} lines, ${secrets.length} secrets, 0 found`);
    } finally {
      await t.stop();
    }
  });
});

describe('PostgreSQL unreachable while a socket connects', () => {
  it('closes the connection with 4500 "internal error" and recovers for the next one', async () => {
    const db = await createTestDatabase();
    const target = new URL(db.url);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const t = await startTestApp({ db: { ...db, url: proxy.proxied(db.url), drop: async () => {} } });
    try {
      const user = await createActiveUser(t);
      const tokens = await login(t, user);
      proxy.cut();
      const refused = connectWs(t.wsUrl, { token: tokens.accessToken });
      expect(await withTimeout(refused.closed, 10_000, 'the close')).toEqual({ code: 4500, reason: 'internal error' });
      proxy.restore();
      const ws = await eventually(
        () => connectedWs(t.wsUrl, { token: tokens.accessToken }).catch(() => false as const),
        'a socket to connect again',
        10_000,
        100,
      );
      await ws.dispose();
    } finally {
      proxy.restore();
      await t.stop();
      await proxy.stop();
      await db.drop();
    }
  });
});
