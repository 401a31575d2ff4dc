import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, uniqueEmail, type TestApp } from './helpers/app.js';
import { withClient } from './helpers/database.js';
import {
  CHANGE_PASSWORD,
  LOGIN,
  LOGOUT,
  LOGOUT_ALL,
  REFRESH,
  REGISTER,
  REQUEST_RESET,
  RESET,
  REVOKE_SESSION,
  SESSIONS,
  fieldErrors,
} from './helpers/graphql.js';
import { DEFAULT_PASSWORD, createActiveUser, login, registerInput, signedInUser, untilAccessExpired, type Tokens } from './helpers/factories.js';
import { decodeJwt, encodeJwt } from './helpers/jwt.js';
import { tokenFromMail } from './helpers/smtp.js';
import { startCountedApp } from './helpers/statements.js';
import { sleep } from './helpers/time.js';

/** More of the viewer than the shared ME: sign-in checks who it signed in as. */
const ME_WITH_ROLE = '{ me { id email role } }';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

const me = (app: TestApp, token: string) => app.gql<{ me: { id: string; email: string } | null }>(ME_WITH_ROLE, {}, { token });
const refresh = (app: TestApp, refreshToken: string) => app.gql<{ refreshToken: Tokens }>(REFRESH, { refreshToken });

describe('login', () => {
  it('returns an access and a refresh token bound to one new session', async () => {
    const user = await createActiveUser(t);
    const before = Math.floor(Date.now() / 1000);
    const result = await t.gql<{ login: Tokens & { user: { id: string; email: string } } }>(LOGIN, {
      email: user.email.toUpperCase(),
      password: user.password,
    });
    const tokens = result.data!.login;
    expect(tokens.user).toMatchObject({ id: user.id, email: user.email });

    const access = decodeJwt(tokens.accessToken);
    const refreshClaims = decodeJwt(tokens.refreshToken);
    expect(access.header).toMatchObject({ alg: 'HS256' });
    expect(access.payload).toMatchObject({ sub: user.id, typ: 'access', iss: 'forum-api', aud: 'forum-api' });
    expect(refreshClaims.payload).toMatchObject({ sub: user.id, typ: 'refresh', sid: access.payload.sid });
    expect(access.payload.jti).not.toBe(refreshClaims.payload.jti);
    expect(Number(access.payload.exp) - before).toBeGreaterThanOrEqual(299);
    expect(Number(access.payload.exp) - before).toBeLessThanOrEqual(301);
    expect(Number(refreshClaims.payload.exp) - before).toBeGreaterThanOrEqual(86_399);
    expect(new Date(tokens.accessTokenExpiresAt).getTime()).toBe(Number(access.payload.exp) * 1000);
    expect(new Date(tokens.refreshTokenExpiresAt).getTime()).toBe(Number(refreshClaims.payload.exp) * 1000);

    expect((await me(t, tokens.accessToken)).data?.me).toEqual({ id: user.id, email: user.email, role: 'STARTUP' });
  });

  it('answers INVALID_CREDENTIALS alike for a wrong password and an unknown email', async () => {
    const user = await createActiveUser(t);
    const wrong = await t.gql(LOGIN, { email: user.email, password: 'wrong password' });
    const unknown = await t.gql(LOGIN, { email: uniqueEmail('ghost'), password: 'wrong password' });
    expect(errorCode(wrong)).toBe('INVALID_CREDENTIALS');
    expect(unknown).toEqual(wrong);
  });

  it('tells an inactive account ACCOUNT_INACTIVE only when the password is right', async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    expect(errorCode(await t.gql(LOGIN, { email: input.email, password: 'not the password' }))).toBe('INVALID_CREDENTIALS');
    expect(errorCode(await t.gql(LOGIN, { email: input.email, password: input.password }))).toBe('ACCOUNT_INACTIVE');
  });

  it('records the session with its user agent', async () => {
    const user = await createActiveUser(t);
    const tokens = await login(t, user, { 'user-agent': 'Forum test browser/1.0' });
    const sessions = await t.gql<{ sessions: Array<{ current: boolean; userAgent: string }> }>(SESSIONS, {}, { token: tokens.accessToken });
    expect(sessions.data?.sessions).toEqual([expect.objectContaining({ current: true, userAgent: 'Forum test browser/1.0' })]);
  });
});

describe('access tokens', () => {
  it('returns me: null without a token', async () => {
    expect((await t.gql(ME_WITH_ROLE)).data).toEqual({ me: null });
  });

  it.each([
    ['a malformed Authorization header', { authorization: 'Token abc' }],
    ['garbage', { authorization: 'Bearer not.a.jwt' }],
  ])('fails me with INVALID_TOKEN for %s instead of going anonymous', async (_name, headers) => {
    const result = await t.gql(ME_WITH_ROLE, {}, { headers });
    expect(errorCode(result)).toBe('INVALID_TOKEN');
    expect(result.errors?.[0]?.path).toEqual(['me']);
    expect(result.data).toEqual({ me: null });
  });

  it('refuses a refresh token used as an access token, and an access token given to refreshToken', async () => {
    const { tokens } = await signedInUser(t);
    expect(errorCode(await me(t, tokens.refreshToken))).toBe('INVALID_TOKEN');
    expect(errorCode(await refresh(t, tokens.accessToken))).toBe('INVALID_TOKEN');
  });

  it('refuses alg none, a foreign signature, a tampered payload and a wrong type claim', async () => {
    const { tokens } = await signedInUser(t);
    const { header, payload, signature } = decodeJwt(tokens.accessToken);
    const other = await signedInUser(t);
    const forged = [
      encodeJwt({ alg: 'none', typ: 'JWT' }, payload, ''),
      jwt.sign(payload, 'some-other-secret-that-is-long-enough-to-sign', { algorithm: 'HS256' }),
      encodeJwt(header, { ...payload, sub: other.id }, signature),
      encodeJwt(header, { ...payload, exp: Number(payload.exp) + 3600 }, signature),
      encodeJwt(header, { ...payload, typ: 'refresh' }, signature),
      encodeJwt({ ...header, alg: 'HS512' }, payload, signature),
    ];
    for (const token of forged) expect(errorCode(await me(t, token))).toBe('INVALID_TOKEN');
    const refreshParts = decodeJwt(tokens.refreshToken);
    expect(errorCode(await refresh(t, encodeJwt({ alg: 'none' }, refreshParts.payload, '')))).toBe('INVALID_TOKEN');
    expect(errorCode(await refresh(t, encodeJwt(refreshParts.header, { ...refreshParts.payload, typ: 'access' }, refreshParts.signature)))).toBe(
      'INVALID_TOKEN',
    );
  });

  it('refuses a token signed for another issuer or audience', async () => {
    const { tokens } = await signedInUser(t);
    const other = await startTestApp({ env: { JWT_ISSUER: 'someone-else' }, db: t.db, inbox: t.inbox });
    try {
      expect(errorCode(await me(other, tokens.accessToken))).toBe('INVALID_TOKEN');
    } finally {
      await other.stop();
    }
  });
});

describe('refreshToken', () => {
  it('rotates: returns a new pair, and the new access token works', async () => {
    const { id, tokens } = await signedInUser(t);
    const rotated = (await refresh(t, tokens.refreshToken)).data!.refreshToken;
    expect(rotated.refreshToken).not.toBe(tokens.refreshToken);
    expect(rotated.accessToken).not.toBe(tokens.accessToken);
    expect(decodeJwt(rotated.refreshToken).payload.sid).toBe(decodeJwt(tokens.refreshToken).payload.sid);
    expect((await me(t, rotated.accessToken)).data?.me?.id).toBe(id);
  });

  it('gives the very same successor pair back to the parent within the grace window', async () => {
    const { tokens } = await signedInUser(t);
    const first = (await refresh(t, tokens.refreshToken)).data!.refreshToken;
    const again = (await refresh(t, tokens.refreshToken)).data!.refreshToken;
    expect(again).toEqual(first);
    expect((await me(t, first.accessToken)).data?.me).toBeTruthy();
    // The successor still rotates normally afterwards.
    expect((await refresh(t, first.refreshToken)).data?.refreshToken).toBeTruthy();
  });

  it('produces exactly one new pair from 20 concurrent refreshes of one token', async () => {
    const { tokens } = await signedInUser(t);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(t, tokens.refreshToken)));
    expect(results.every((r) => r.data?.refreshToken)).toBe(true);
    expect(new Set(results.map((r) => r.data!.refreshToken.refreshToken)).size).toBe(1);
    expect(new Set(results.map((r) => r.data!.refreshToken.accessToken)).size).toBe(1);
    const rows = await withClient(
      t.db.url,
      async (c) => (await c.query(`select count(*) from refresh_token where parent_jti = $1`, [decodeJwt(tokens.refreshToken).payload.jti])).rows[0].count,
    );
    expect(Number(rows)).toBe(1);
  });

  it('treats an older ancestor as theft even within the grace window', async () => {
    const { tokens } = await signedInUser(t);
    const second = (await refresh(t, tokens.refreshToken)).data!.refreshToken;
    const third = (await refresh(t, second.refreshToken)).data!.refreshToken;
    expect(errorCode(await refresh(t, tokens.refreshToken))).toBe('TOKEN_REVOKED');
    expect(errorCode(await refresh(t, third.refreshToken))).toBe('TOKEN_REVOKED');
    expect(errorCode(await me(t, third.accessToken))).toBe('TOKEN_REVOKED');
  });

  it('keeps the session absolute expiry: refresh tokens never outlive it, and it ends at SESSION_MAX_AGE', async () => {
    const short = await startTestApp({ env: { SESSION_MAX_AGE: '3' }, db: t.db, inbox: t.inbox });
    try {
      const user = await createActiveUser(short);
      const tokens = await login(short, user);
      const sessionEnd = Number(decodeJwt(tokens.refreshToken).payload.exp);
      await sleep(1_100); // a refresh a second later would end later, were the session end not a cap
      const rotated = (await refresh(short, tokens.refreshToken)).data!.refreshToken;
      expect(Number(decodeJwt(rotated.refreshToken).payload.exp)).toBe(sessionEnd);
      expect(Number(decodeJwt(rotated.accessToken).payload.exp)).toBeLessThanOrEqual(sessionEnd);
      await sleep(Math.max(0, sessionEnd * 1000 - Date.now()) + 1_100);
      expect(errorCode(await refresh(short, rotated.refreshToken))).toBe('TOKEN_EXPIRED');
      expect(errorCode(await me(short, rotated.accessToken))).toBe('TOKEN_EXPIRED');
    } finally {
      await short.stop();
    }
  });
});

describe('refresh token reuse after the grace window', () => {
  let g: TestApp;
  beforeAll(async () => {
    g = await startTestApp({ env: { REFRESH_REUSE_GRACE_SECONDS: '0' }, db: t.db, inbox: t.inbox });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('revokes the whole session: the newest refresh token and the access tokens die too', async () => {
    const user = await createActiveUser(g);
    const tokens = await login(g, user);
    const other = await login(g, user);
    const stolenThenRotated = (await refresh(g, tokens.refreshToken)).data!.refreshToken;

    const reuse = await refresh(g, tokens.refreshToken);
    expect(errorCode(reuse)).toBe('TOKEN_REVOKED');
    expect(errorCode(await refresh(g, stolenThenRotated.refreshToken))).toBe('TOKEN_REVOKED');
    expect(errorCode(await me(g, stolenThenRotated.accessToken))).toBe('TOKEN_REVOKED');
    expect(errorCode(await me(g, tokens.accessToken))).toBe('TOKEN_REVOKED');
    // Another session of the same user is untouched.
    expect((await me(g, other.accessToken)).data?.me?.id).toBe(user.id);
    const reason = await withClient(
      g.db.url,
      async (c) => (await c.query(`select revoke_reason from session where id = $1`, [decodeJwt(tokens.refreshToken).payload.sid])).rows[0].revoke_reason,
    );
    expect(reason).toBe('refresh_token_reuse');
  });

  it('lets exactly one of concurrent refreshes win and revokes the session for the others', async () => {
    const user = await createActiveUser(g);
    const tokens = await login(g, user);
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(g, tokens.refreshToken)));
    const winners = results.filter((r) => r.data?.refreshToken);
    expect(winners.length).toBe(1);
    expect(results.filter((r) => errorCode(r) === 'TOKEN_REVOKED').length).toBe(4);
  });
});

describe('expiry', () => {
  it('answers TOKEN_EXPIRED for an expired access token and an expired refresh token', async () => {
    // Its own database: a third app on the file's embedded PGlite would pass its connection limit.
    const short = await startTestApp({ env: { ACCESS_TOKEN_TTL: '1', REFRESH_TOKEN_TTL: '1' } });
    try {
      const user = await createActiveUser(short);
      const tokens = await login(short, user);
      await untilAccessExpired(short, tokens.accessToken);
      // Both were signed in the same second with a 1-second lifetime.
      expect(errorCode(await refresh(short, tokens.refreshToken))).toBe('TOKEN_EXPIRED');
    } finally {
      await short.stop();
    }
  });
});

describe('logout', () => {
  it('needs an access token', async () => {
    const { tokens } = await signedInUser(t);
    expect(errorCode(await t.gql(LOGOUT, { refreshToken: tokens.refreshToken }))).toBe('UNAUTHENTICATED');
  });

  it("refuses another user's refresh token with FORBIDDEN and leaves that session alive", async () => {
    const alice = await signedInUser(t);
    const bob = await signedInUser(t);
    expect(errorCode(await t.gql(LOGOUT, { refreshToken: bob.tokens.refreshToken }, { token: alice.tokens.accessToken }))).toBe('FORBIDDEN');
    expect((await me(t, bob.tokens.accessToken)).data?.me?.id).toBe(bob.id);
    expect((await refresh(t, bob.tokens.refreshToken)).data?.refreshToken).toBeTruthy();
  });

  it("ends the session at once: its access and refresh tokens are refused, the user's other session still works", async () => {
    const user = await createActiveUser(t);
    const phone = await login(t, user);
    const laptop = await login(t, user);
    const result = await t.gql(LOGOUT, { refreshToken: phone.refreshToken }, { token: phone.accessToken });
    expect(result.data).toEqual({ logout: { ok: true, message: expect.any(String) } });
    expect(errorCode(await me(t, phone.accessToken))).toBe('TOKEN_REVOKED');
    expect(errorCode(await refresh(t, phone.refreshToken))).toBe('TOKEN_REVOKED');
    expect((await me(t, laptop.accessToken)).data?.me?.id).toBe(user.id);
  });

  it('keeps revoking when a revocation listener fails (one bad listener cannot stop logouts)', async () => {
    const stopFailing = t.app.container.revokedSessions.onRevoked(() => {
      throw new Error('listener failure for the test');
    });
    try {
      const user = await createActiveUser(t);
      const first = await login(t, user);
      const second = await login(t, user);
      expect((await t.gql(LOGOUT, { refreshToken: first.refreshToken }, { token: first.accessToken })).data).toEqual({
        logout: { ok: true, message: expect.any(String) },
      });
      expect(errorCode(await me(t, first.accessToken))).toBe('TOKEN_REVOKED');
      await t.gql(LOGOUT, { refreshToken: second.refreshToken }, { token: second.accessToken });
      expect(errorCode(await me(t, second.accessToken))).toBe('TOKEN_REVOKED');
    } finally {
      stopFailing();
    }
  });

  it('logoutAll ends every session of the viewer', async () => {
    const user = await createActiveUser(t);
    const a = await login(t, user);
    const b = await login(t, user);
    expect((await t.gql(LOGOUT_ALL, {}, { token: a.accessToken })).data).toEqual({ logoutAll: { ok: true } });
    for (const tokens of [a, b]) {
      expect(errorCode(await me(t, tokens.accessToken))).toBe('TOKEN_REVOKED');
      expect(errorCode(await refresh(t, tokens.refreshToken))).toBe('TOKEN_REVOKED');
    }
  });
});

describe('sessions and revokeSession', () => {
  it("lists the viewer's live sessions and marks the current one", async () => {
    const user = await createActiveUser(t);
    const a = await login(t, user);
    const b = await login(t, user);
    const other = await signedInUser(t);
    const listed = (await t.gql<{ sessions: Array<{ id: string; current: boolean }> }>(SESSIONS, {}, { token: a.accessToken })).data!.sessions;
    expect(listed.map((s) => s.id).sort()).toEqual([decodeJwt(a.accessToken).payload.sid, decodeJwt(b.accessToken).payload.sid].sort());
    expect(listed.find((s) => s.current)?.id).toBe(decodeJwt(a.accessToken).payload.sid);
    expect(listed.map((s) => s.id)).not.toContain(decodeJwt(other.tokens.accessToken).payload.sid);
    expect(errorCode(await t.gql(SESSIONS))).toBe('UNAUTHENTICATED');
  });

  it("ends one of the viewer's sessions; someone else's or an unknown one is NOT_FOUND", async () => {
    const user = await createActiveUser(t);
    const a = await login(t, user);
    const b = await login(t, user);
    const stranger = await signedInUser(t);
    const bSession = String(decodeJwt(b.accessToken).payload.sid);
    expect(errorCode(await t.gql(REVOKE_SESSION, { id: bSession }, { token: stranger.tokens.accessToken }))).toBe('NOT_FOUND');
    expect((await me(t, b.accessToken)).data?.me).toBeTruthy();
    expect(errorCode(await t.gql(REVOKE_SESSION, { id: randomUUID() }, { token: a.accessToken }))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(REVOKE_SESSION, { id: 'not-a-uuid' }, { token: a.accessToken }))).toBe('NOT_FOUND');

    expect((await t.gql(REVOKE_SESSION, { id: bSession }, { token: a.accessToken })).data).toEqual({ revokeSession: { ok: true } });
    expect(errorCode(await me(t, b.accessToken))).toBe('TOKEN_REVOKED');
    expect((await me(t, a.accessToken)).data?.me).toBeTruthy();
  });
});

describe('passwords', () => {
  it('changePassword checks the current password, ends every session and returns a fresh one', async () => {
    const user = await createActiveUser(t);
    const a = await login(t, user);
    const b = await login(t, user);
    expect(errorCode(await t.gql(CHANGE_PASSWORD, { currentPassword: 'nope nope', newPassword: 'a brand new secret' }, { token: a.accessToken }))).toBe(
      'INVALID_CREDENTIALS',
    );
    const weak = await t.gql(CHANGE_PASSWORD, { currentPassword: user.password, newPassword: '12345678' }, { token: a.accessToken });
    expect(errorCode(weak)).toBe('BAD_USER_INPUT');
    expect(fieldErrors(weak)).toEqual({ newPassword: expect.any(String) });

    const changed = await t.gql<{ changePassword: Tokens }>(
      CHANGE_PASSWORD,
      { currentPassword: user.password, newPassword: 'a brand new secret' },
      { token: a.accessToken },
    );
    const fresh = changed.data!.changePassword;
    for (const old of [a, b]) expect(errorCode(await me(t, old.accessToken))).toBe('TOKEN_REVOKED');
    expect((await me(t, fresh.accessToken)).data?.me?.id).toBe(user.id);
    expect(errorCode(await t.gql(LOGIN, { email: user.email, password: user.password }))).toBe('INVALID_CREDENTIALS');
    expect((await login(t, { email: user.email, password: 'a brand new secret' })).accessToken).toBeTruthy();
  });

  it('requestPasswordReset answers the same for any email and mails only registered ones', async () => {
    const user = await createActiveUser(t);
    const unknown = uniqueEmail('nobody');
    const known = await t.gql(REQUEST_RESET, { email: user.email });
    const missing = await t.gql(REQUEST_RESET, { email: unknown });
    expect(known.data?.requestPasswordReset).toMatchObject({ ok: true });
    expect(missing).toEqual(known);
    const mail = await t.inbox.waitForMail(user.email, 2);
    expect(mail.subject).toMatch(/reset/i);
    expect(mail.text).toContain(`${t.config.APP_URL}/reset-password?token=`);
    // A reset requested after the unknown one is mailed; the unknown address got nothing before it.
    const later = await createActiveUser(t);
    await t.gql(REQUEST_RESET, { email: later.email });
    await t.inbox.waitForMail(later.email, 2);
    expect(t.inbox.mailsTo(unknown)).toHaveLength(0);
  });

  it('requestPasswordReset mails an address at most once per cooldown, with the same answer every time', async () => {
    const cool = await startTestApp({ env: { EMAIL_COOLDOWN_SECONDS: '3600' }, db: t.db, inbox: t.inbox });
    try {
      const user = await createActiveUser(cool);
      const answers = await Promise.all(Array.from({ length: 5 }, () => cool.gql(REQUEST_RESET, { email: user.email })));
      expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
      expect(answers[0]?.data?.requestPasswordReset).toMatchObject({ ok: true });
      const resetMail = await t.inbox.waitForMail(user.email, 2);
      expect(resetMail.subject).toMatch(/reset/i);
      // A reset for another address, requested afterwards, is mailed; no second reset came before it.
      const later = await createActiveUser(cool);
      await cool.gql(REQUEST_RESET, { email: later.email });
      await t.inbox.waitForMail(later.email, 2);
      // The activation email and one reset email: the other four requests were inside the cooldown.
      expect(t.inbox.mailsTo(user.email)).toHaveLength(2);
    } finally {
      await cool.stop();
    }
  });

  it('resetPassword sets the password once per token and ends every session', async () => {
    const user = await createActiveUser(t);
    const session = await login(t, user);
    await t.gql(REQUEST_RESET, { email: user.email });
    const token = tokenFromMail(await t.inbox.waitForMail(user.email, 2));

    const weak = await t.gql(RESET, { token, newPassword: 'short' });
    expect(errorCode(weak)).toBe('BAD_USER_INPUT');
    expect((await t.gql(RESET, { token, newPassword: 'reset to this one' })).data).toEqual({ resetPassword: { ok: true } });
    expect(errorCode(await t.gql(RESET, { token, newPassword: 'and again this one' }))).toBe('INVALID_TOKEN');
    expect(errorCode(await me(t, session.accessToken))).toBe('TOKEN_REVOKED');
    expect(errorCode(await t.gql(LOGIN, { email: user.email, password: DEFAULT_PASSWORD }))).toBe('INVALID_CREDENTIALS');
    expect((await login(t, { email: user.email, password: 'reset to this one' })).accessToken).toBeTruthy();
  });

  it('does not accept an activation token as a reset token', async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const activationToken = tokenFromMail(await t.inbox.waitForMail(input.email));
    expect(errorCode(await t.gql(RESET, { token: activationToken, newPassword: 'hijacked password' }))).toBe('INVALID_TOKEN');
  });
});

describe('refresh durability', () => {
  it('keeps the asynchronous commit of a rotation to its own transaction: the next statement on its connection commits synchronously', async () => {
    // One connection, so the statement after the refresh runs where the rotation ran.
    const single = await startTestApp({ db: t.db, inbox: t.inbox, env: { DATABASE_POOL_MAX: '1' } });
    try {
      const user = await createActiveUser(single);
      const tokens = await login(single, user);
      const rotated = await refresh(single, tokens.refreshToken);
      expect(rotated.data?.refreshToken.refreshToken).toBeTruthy();
      const [setting] = (await single.app.container.fork().execute('show synchronous_commit')) as Array<{ synchronous_commit: string }>;
      // A logout or any other write after it still waits for its flush.
      expect(setting?.synchronous_commit).toBe('on');
    } finally {
      await single.stop();
    }
  });

  it('waits for the flush of every rotation with REFRESH_DURABLE_COMMIT=true', async () => {
    for (const [durable, asynchronous] of [
      ['true', false],
      ['false', true],
    ] as const) {
      const counted = await startCountedApp({ db: t.db, inbox: t.inbox, env: { REFRESH_DURABLE_COMMIT: durable } });
      try {
        const tokens = await login(counted, await createActiveUser(counted));
        const rotation = await counted.statements.during(() => refresh(counted, tokens.refreshToken));
        expect(rotation.filter((sql) => sql.includes('"won" as'))).toHaveLength(1);
        expect(rotation.some((sql) => sql.includes("set_config('synchronous_commit', 'off', true)"))).toBe(asynchronous);
      } finally {
        await counted.stop();
      }
    }
  });
});
