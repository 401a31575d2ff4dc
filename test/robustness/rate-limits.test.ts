import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, uniqueEmail, type TestApp } from '../helpers/app.js';
import { LOGIN, REFRESH, REGISTER, RESEND } from '../helpers/graphql.js';
import { createActiveUser, login, registerInput } from '../helpers/factories.js';
import { startInstancesOverRedis, type InstancePair } from '../helpers/instances.js';
import { redisAvailableFor } from '../helpers/redis.js';

describe('rate limits (in memory)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL: '10',
        RATE_LIMIT_LOGIN_PER_IP: '40',
        RATE_LIMIT_REGISTER_PER_IP: '8',
        RATE_LIMIT_REFRESH_PER_IP: '6',
      },
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('locks an email after 10 failed logins, even for the right password, with retryAfter; other emails are unaffected', async () => {
    const victim = await createActiveUser(t);
    const bystander = await createActiveUser(t);
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(errorCode(await t.gql(LOGIN, { email: victim.email, password: `wrong-${i}-password` })));
    expect(answers).toEqual(Array(10).fill('INVALID_CREDENTIALS'));
    const limited = await t.gql(LOGIN, { email: victim.email, password: victim.password });
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    const retryAfter = limited.errors?.[0]?.extensions?.retryAfter as number;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect((await login(t, bystander)).accessToken).toBeTruthy();
  });

  it('does not count successful logins against the email', async () => {
    const user = await createActiveUser(t);
    for (let i = 0; i < 12; i++) expect((await t.gql(LOGIN, { email: user.email, password: user.password })).data).toBeTruthy();
  });

  it('limits registrations per IP, and counts every attempt', async () => {
    const fresh = await startTestApp({ db: t.db, inbox: t.inbox, env: { RATE_LIMIT_REGISTER_PER_IP: '3' } });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push(errorCode(await fresh.gql(REGISTER, { input: registerInput() })) ?? 'OK');
      expect(codes).toEqual(['OK', 'OK', 'OK', 'RATE_LIMITED', 'RATE_LIMITED']);
    } finally {
      await fresh.stop();
    }
  });

  it('limits logins per IP', async () => {
    const fresh = await startTestApp({ db: t.db, inbox: t.inbox, env: { RATE_LIMIT_LOGIN_PER_IP: '3' } });
    try {
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push(errorCode(await fresh.gql(LOGIN, { email: uniqueEmail(), password: 'whatever-password' })));
      expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
    } finally {
      await fresh.stop();
    }
  });

  it('limits refreshToken per IP', async () => {
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push(errorCode(await t.gql(REFRESH, { refreshToken: 'not-a-token' })));
    expect(codes.slice(0, 6)).toEqual(Array(6).fill('INVALID_TOKEN'));
    expect(codes[6]).toBe('RATE_LIMITED');
  });

  it('keeps resendActivation answers identical whatever the cooldown does', async () => {
    const cool = await startTestApp({ db: t.db, inbox: t.inbox, env: { EMAIL_COOLDOWN_SECONDS: '3600' } });
    try {
      const input = registerInput();
      await cool.gql(REGISTER, { input });
      const answers = await Promise.all([input.email, uniqueEmail(), input.email, input.email].map((email) => cool.gql(RESEND, { email })));
      expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    } finally {
      await cool.stop();
    }
  });
});

describe.skipIf(!redisAvailableFor('shared rate limits'))('rate limits shared through Redis', () => {
  let pair: InstancePair | undefined;
  beforeAll(async () => {
    pair = await startInstancesOverRedis({ RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL: '4' });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('counts failures on both instances against one limit', async () => {
    const { a, b } = pair!;
    const user = await createActiveUser(a);
    for (const app of [a, b, a, b]) expect(errorCode(await app.gql(LOGIN, { email: user.email, password: 'wrong password!' }))).toBe('INVALID_CREDENTIALS');
    expect(errorCode(await a.gql(LOGIN, { email: user.email, password: user.password }))).toBe('RATE_LIMITED');
    expect(errorCode(await b.gql(LOGIN, { email: user.email, password: user.password }))).toBe('RATE_LIMITED');
  });
});
