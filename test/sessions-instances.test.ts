import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from './helpers/app.js';
import { LOGOUT, ME } from './helpers/graphql.js';
import { withClient } from './helpers/database.js';
import { createActiveUser, login } from './helpers/factories.js';
import { decodeJwt } from './helpers/jwt.js';
import { startInstancesOverRedis, type InstancePair } from './helpers/instances.js';
import { redisAvailableFor } from './helpers/redis.js';
import { eventually } from './helpers/time.js';

/** Signs in on A, checks B accepts the token, logs out on A, and waits for B to refuse it. */
async function expectLogoutOnARefusedOnBWithinASecond(a: TestApp, b: TestApp): Promise<void> {
  const user = await createActiveUser(a);
  const tokens = await login(a, user);
  expect((await b.gql(ME, {}, { token: tokens.accessToken })).data).toEqual({ me: { id: user.id } });
  await a.gql(LOGOUT, { refreshToken: tokens.refreshToken }, { token: tokens.accessToken });
  // API.md promises the refusal on every instance within a second.
  await eventually(async () => errorCode(await b.gql(ME, {}, { token: tokens.accessToken })) === 'TOKEN_REVOKED', 'B to refuse the revoked token', 1_000, 25);
}

describe('two instances sharing the database (no Redis: the periodic re-sync carries revocations)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ env: { REDIS_URL: '' } });
    b = await startTestApp({ db: a.db, inbox: a.inbox, env: { REDIS_URL: '', REVOCATION_SYNC_SECONDS: '0.2' } });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('refuses on B, within a second, a session logged out on A', async () => {
    await expectLogoutOnARefusedOnBWithinASecond(a, b);
  });

  it('a new instance learns at start which sessions were revoked', async () => {
    const user = await createActiveUser(a);
    const tokens = await login(a, user);
    await a.gql(LOGOUT, { refreshToken: tokens.refreshToken }, { token: tokens.accessToken });
    const c = await startTestApp({ db: a.db, inbox: a.inbox, env: { REDIS_URL: '', REVOCATION_SYNC_SECONDS: '3600' } });
    try {
      expect(errorCode(await c.gql(ME, {}, { token: tokens.accessToken }))).toBe('TOKEN_REVOKED');
    } finally {
      await c.stop();
    }
  });
});

describe.skipIf(!redisAvailableFor('revocation through Redis'))('two instances sharing the database and Redis', () => {
  let pair: InstancePair | undefined;
  beforeAll(async () => {
    pair = await startInstancesOverRedis();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('refuses on B, within a second, a session logged out on A, through the session:revoked event', async () => {
    const { a, b } = pair!;
    await expectLogoutOnARefusedOnBWithinASecond(a, b);
  });
});

describe('tokens:flush', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('deletes expired refresh tokens, sessions and email tokens, and keeps live ones', async () => {
    const user = await createActiveUser(t);
    const live = await login(t, user);
    const dead = await login(t, user);
    const deadSession = String(decodeJwt(dead.refreshToken).payload.sid);
    await withClient(t.db.url, async (c) => {
      await c.query(`update session set expires_at = now() - interval '1 minute' where id = $1`, [deadSession]);
      await c.query(`update refresh_token set expires_at = now() - interval '1 minute' where session_id = $1`, [deadSession]);
      await c.query(`update email_token set expires_at = now() - interval '1 minute' where user_id = $1`, [user.id]);
    });
    const run = promisify(execFile);
    // As an operator runs it: compiled, building dist/ first when it is stale.
    const { stdout } = await run('npm', ['run', '--silent', 'tokens:flush'], {
      env: { ...process.env, DATABASE_URL: t.db.url, LOG_LEVEL: 'silent', NODE_ENV: 'test', JWT_SECRET: t.config.JWT_SECRET },
    });
    const { deleted } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { deleted: Record<string, number> };
    expect(deleted.session).toBe(1);
    expect(deleted.refresh_token).toBe(1);
    expect(deleted.email_token).toBeGreaterThanOrEqual(1);
    const remaining = await withClient(t.db.url, async (c) => (await c.query(`select id from session where user_id = $1`, [user.id])).rows);
    expect(remaining).toEqual([{ id: decodeJwt(live.refreshToken).payload.sid }]);
    expect((await t.gql(ME, {}, { token: live.accessToken })).data).toEqual({ me: { id: user.id } });
  }, 180_000);
});
