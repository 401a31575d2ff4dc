import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, uniqueEmail, type GqlResult, type TestApp } from '../helpers/app.js';
import { CHANGE_PASSWORD, LOGIN, REGISTER, REQUEST_RESET, RESEND, RESET } from '../helpers/graphql.js';
import { createTestDatabase, untilLockWaiters, whileTableLocked, withClient } from '../helpers/database.js';
import { createActiveUser, login, registerInput } from '../helpers/factories.js';
import { withTimeout } from '../helpers/time.js';
import { chatPair } from '../helpers/chat.js';
import { findUserView } from '../../src/modules/user/user.repository.js';

/** API.md "Rate limits": limits that hold under concurrency, bounded hashing, no enumeration by timing. */
/** Well-formed (43 base64url characters) but never issued. */
const UNKNOWN_TOKEN = 'A'.repeat(43);

const codes = (results: GqlResult<unknown>[]) => {
  const tally: Record<string, number> = {};
  for (const result of results) {
    const code = String(errorCode(result) ?? 'ok');
    tally[code] = (tally[code] ?? 0) + 1;
  }
  return tally;
};

describe('limits under concurrency', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL: '10', RATE_LIMIT_RESET_PASSWORD_PER_IP: '3' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('checks at most 10 of 40 wrong passwords for one email sent at once; the rest are RATE_LIMITED', async () => {
    const user = await createActiveUser(t);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => t.gql(LOGIN, { email: user.email, password: `wrong password ${i}` })));
    const tally = codes(results);
    console.info('40 parallel wrong logins for one email:', tally);
    expect(tally.INVALID_CREDENTIALS).toBeLessThanOrEqual(10);
    expect(tally.RATE_LIMITED).toBeGreaterThanOrEqual(30);
    expect((tally.INVALID_CREDENTIALS ?? 0) + (tally.RATE_LIMITED ?? 0)).toBe(40);
  });

  it('counts wrong current passwords in changePassword toward the account limit', async () => {
    const user = await createActiveUser(t);
    const { accessToken } = await login(t, user);
    const answers = [];
    for (let i = 0; i < 11; i++)
      answers.push(errorCode(await t.gql(CHANGE_PASSWORD, { currentPassword: `guess number ${i}`, newPassword: 'a new password' }, { token: accessToken })));
    expect(answers.slice(0, 10)).toEqual(Array(10).fill('INVALID_CREDENTIALS'));
    expect(answers[10]).toBe('RATE_LIMITED');
    // The same account limit: signing in is locked too.
    expect(errorCode(await t.gql(LOGIN, { email: user.email, password: user.password }))).toBe('RATE_LIMITED');
  });

  it('limits resetPassword per IP', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(errorCode(await t.gql(RESET, { token: UNKNOWN_TOKEN, newPassword: 'a new password' })));
    }
    expect(answers).toEqual(['INVALID_TOKEN', 'INVALID_TOKEN', 'INVALID_TOKEN', 'RATE_LIMITED']);
  });
});

describe('bounded password hashing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { HASH_QUEUE_MAX: '2' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers RATE_LIMITED at once beyond the hash queue, and refuses a bad reset token without hashing even then', async () => {
    const user = await createActiveUser(t);
    const flood = Array.from({ length: 30 }, () => t.gql(LOGIN, { email: uniqueEmail(), password: 'some password' }));
    // Sent while the flood fills the queue: none of these may need a hash slot.
    const resets = await Promise.all([
      t.gql(RESET, { token: 'x', newPassword: 'a new password' }),
      t.gql(RESET, { token: UNKNOWN_TOKEN, newPassword: 'a new password' }),
    ]);
    const tally = codes(await Promise.all(flood));
    console.info('30 parallel logins with a hash queue of 2:', tally);
    expect(tally.RATE_LIMITED).toBeGreaterThan(0);
    expect(tally.INVALID_CREDENTIALS).toBeGreaterThan(0);
    expect(resets.map(errorCode)).toEqual(['INVALID_TOKEN', 'INVALID_TOKEN']);
    const limited = (await Promise.all(Array.from({ length: 30 }, () => t.gql(LOGIN, { email: user.email, password: user.password })))).find(
      (r) => errorCode(r) === 'RATE_LIMITED',
    );
    expect(limited?.errors?.[0]?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
    // Nothing is stuck: once the flood is over, a login goes through.
    expect((await login(t, user)).accessToken).toBeTruthy();
  });
});

describe('emails requested per IP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_EMAIL_REQUESTS_PER_IP: '2', TRUST_PROXY: 'true' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('mails nothing beyond the per-IP budget of resendActivation and requestPasswordReset, with the same answer', async () => {
    const inputs = [registerInput(), registerInput()];
    const active = await createActiveUser(t);
    for (const input of inputs) expect((await t.gql(REGISTER, { input }, { headers: { 'x-forwarded-for': '198.51.100.1' } })).errors).toBeUndefined();
    for (const input of inputs) await t.inbox.waitForMail(input.email);
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const answers = [
      await t.gql(RESEND, { email: inputs[0]!.email }, from('203.0.113.9')),
      await t.gql(REQUEST_RESET, { email: active.email }, from('203.0.113.9')),
      await t.gql(RESEND, { email: inputs[1]!.email }, from('203.0.113.9')), // over the budget
    ];
    expect(answers[2]).toEqual(answers[0]);
    // Requests from other addresses come later; once the last one's mail is in, a mail of the
    // refused request (queued before them) would have been delivered too.
    await t.gql(REQUEST_RESET, { email: inputs[1]!.email }, from('203.0.113.10'));
    await t.inbox.waitForMail(inputs[1]!.email, 2);
    await t.gql(REQUEST_RESET, { email: active.email }, from('203.0.113.11'));
    await t.inbox.waitForMail(active.email, 3);
    await t.inbox.waitForMail(inputs[0]!.email, 2);
    expect(t.inbox.mailsTo(inputs[1]!.email)).toHaveLength(2);
    expect(t.inbox.mailsTo(inputs[1]!.email).filter((m) => /reset/i.test(m.subject))).toHaveLength(1);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('no account enumeration by timing (needs DATABASE_URL: it holds a lock on a real server)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { EMAIL_COOLDOWN_SECONDS: '0' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  /**
   * Whether an address has an account may change only the work done after the answer. While a
   * second connection holds the accounts table, no statement can read an account: both answers
   * arriving then proves neither waited for its account's work, so their timing cannot tell the
   * two apart (a comparison of answer times would, but only within the noise of the machine).
   * Once the table is free, the known address gets its mail: the work was put off, not skipped.
   */
  async function answersWhileAccountsLocked(query: string, known: string) {
    return whileTableLocked(t.db.url, 'user', () =>
      withTimeout(Promise.all([t.gql(query, { email: known }), t.gql(query, { email: uniqueEmail() })]), 10_000, 'the answers while the accounts were locked'),
    );
  }

  it('requestPasswordReset answers a known and an unknown address alike without reading either account', async () => {
    const user = await createActiveUser(t);
    const [known, unknown] = await answersWhileAccountsLocked(REQUEST_RESET, user.email);
    expect(known).toEqual(unknown);
    expect(known.errors).toBeUndefined();
    expect((await t.inbox.waitForMail(user.email, 2)).subject).toMatch(/reset/i);
  });

  it('resendActivation answers an inactive and an unknown address alike without reading either account', async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    await t.inbox.waitForMail(input.email);
    const [known, unknown] = await answersWhileAccountsLocked(RESEND, input.email);
    expect(known).toEqual(unknown);
    expect(known.errors).toBeUndefined();
    await t.inbox.waitForMail(input.email, 2);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('an instance stopping while mail work is pending (needs DATABASE_URL: it holds a lock on a real server)', () => {
  it('finishes the work of answered resendActivation requests before it closes the database', async () => {
    const db = await createTestDatabase(); // kept past the stop, to count what the work queued
    // One connection: while the first request's work waits for the accounts table, the second's waits for the connection.
    const t = await startTestApp({ db, env: { EMAIL_COOLDOWN_SECONDS: '0', DATABASE_POOL_MAX: '1' } });
    let stopped: Promise<void> | undefined;
    try {
      const input = registerInput();
      await t.gql(REGISTER, { input });
      await t.inbox.waitForMail(input.email);
      await whileTableLocked(t.db.url, 'user', async () => {
        for (let i = 0; i < 2; i++) expect((await t.gql(RESEND, { email: input.email })).errors).toBeUndefined();
        stopped = t.stop();
      });
      await withTimeout(stopped!, 15_000, 'the instance to stop');
      const queued = await withClient(
        db.url,
        async (c) => (await c.query<{ n: number }>(`select count(*)::int as n from mail_outbox where recipient = $1`, [input.email])).rows[0]!.n,
      );
      expect(queued).toBe(3); // the registration's and both resends'
    } finally {
      if (!stopped) await t.stop();
      await db.drop();
    }
  });

  it('finishes the batched message stores in flight before it closes the database', async () => {
    const db = await createTestDatabase();
    // One connection: while the first batch waits for the messages table, the second waits for the connection.
    const t = await startTestApp({ db, env: { DATABASE_POOL_MAX: '1' } });
    let stopped: Promise<void> | undefined;
    try {
      const [a, b] = await Promise.all([chatPair(t), chatPair(t)]);
      const viewers = await Promise.all([a.investor.id, b.investor.id].map(async (id) => (await findUserView(t.app.container.fork(), id))!));
      const chat = t.app.container.domain.chat;
      let sends: Promise<unknown>[] = [];
      await whileTableLocked(t.db.url, 'message', async (blocker) => {
        const first = chat.send(t.app.container.fork(), viewers[0]!, { conversationId: a.conversationId, body: 'first batch' });
        await untilLockWaiters(blocker, 1);
        const second = chat.send(t.app.container.fork(), viewers[1]!, { conversationId: b.conversationId, body: 'second batch' });
        sends = [first, second];
        stopped = t.stop();
      });
      await withTimeout(stopped!, 15_000, 'the instance to stop');
      expect((await Promise.allSettled(sends)).map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
      const stored = await withClient(db.url, async (c) => (await c.query<{ body: string }>(`select "body" from "message" order by "body"`)).rows);
      expect(stored.map((row) => row.body)).toEqual(['first batch', 'second batch']);
    } finally {
      if (!stopped) await t.stop();
      await db.drop();
    }
  });
});
