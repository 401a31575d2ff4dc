import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, uniqueEmail, type TestApp } from './helpers/app.js';
import { withClient } from './helpers/database.js';
import { ACTIVATE, REGISTER, RESEND, fieldErrors } from './helpers/graphql.js';
import { registerInput } from './helpers/factories.js';
import { tokenFromMail } from './helpers/smtp.js';
import { sleep } from './helpers/time.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

const countRows = (sql: string, params: unknown[] = []) => withClient(t.db.url, async (client) => Number((await client.query(sql, params)).rows[0].count));

describe('register', () => {
  it('creates an inactive startup with its profile and emails an activation link', async () => {
    const input = registerInput({ email: uniqueEmail('Founder').toUpperCase() });
    const result = await t.gql(REGISTER, { input });
    expect(result.data).toEqual({ register: { ok: true, message: expect.any(String) } });

    const email = input.email.toLowerCase();
    const mail = await t.inbox.waitForMail(email);
    expect(mail.subject).toMatch(/activate/i);
    expect(mail.text).toContain(`${t.config.APP_URL}/activate?token=`);
    expect(mail.html).toContain('/activate?token=');
    const token = tokenFromMail(mail);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mail.text).toContain(token);

    const rows = await withClient(
      t.db.url,
      async (client) =>
        (
          await client.query(
            `select u.is_active, u.role, u.first_name, s.company_name, s.website, s.industry_id, s.location_id
           from "user" u join startup_profile s on s.owner_id = u.id where u.email = $1`,
            [email],
          )
        ).rows,
    );
    expect(rows).toEqual([
      { is_active: false, role: 'STARTUP', first_name: 'Olena', company_name: 'Acme Robotics', website: 'https://example.com', industry_id: 1, location_id: 1 },
    ]);
  });

  it('creates an investor profile for an INVESTOR', async () => {
    const input = registerInput({ role: 'INVESTOR' });
    expect((await t.gql(REGISTER, { input })).data?.register).toMatchObject({ ok: true });
    const count = await countRows(`select count(*) from investor_profile i join "user" u on u.id = i.owner_id where u.email = $1 and u.role = 'INVESTOR'`, [
      input.email,
    ]);
    expect(count).toBe(1);
  });

  it('stores only a SHA-256 of the activation token', async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const token = tokenFromMail(await t.inbox.waitForMail(input.email));
    const stored = await withClient(
      t.db.url,
      async (client) => (await client.query(`select token_hash from email_token e join "user" u on u.id = e.user_id where u.email = $1`, [input.email])).rows,
    );
    const { createHash } = await import('node:crypto');
    expect(stored).toEqual([{ token_hash: createHash('sha256').update(token).digest('hex') }]);
    expect(JSON.stringify(stored)).not.toContain(token);
  });

  it.each([
    ['email', { email: 'not-an-email' }],
    ['password', { password: 'short1' }],
    ['password', { password: '1234567890' }],
    ['website', { website: 'ftp://example.com' }],
    ['website', { website: 'javascript:alert(1)' }],
    ['website', { website: 'not a url' }],
    ['companyName', { companyName: '   ' }],
    ['companyName', { companyName: 'x'.repeat(201) }],
    ['industryId', { role: 'INVESTOR' as const, industryId: '1' }],
    ['industryId', { industryId: '999999' }],
    ['industryId', { industryId: 'abc' }],
    ['locationId', { locationId: '999999' }],
    ['firstName', { firstName: 'x'.repeat(101) }],
    ['lastName', { lastName: 'bad\u0000name' }],
  ])('rejects a bad %s with BAD_USER_INPUT naming the field (%j)', async (field, overrides) => {
    const input = registerInput(overrides);
    const result = await t.gql(REGISTER, { input });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    const fields = fieldErrors(result) ?? {};
    expect(Object.keys(fields)).toEqual([field]);
    expect(fields[field]).toEqual(expect.any(String));
    expect(await countRows(`select count(*) from "user" where email = $1`, [input.email.toLowerCase()])).toBe(0);
  });

  it('reports every bad field at once', async () => {
    const result = await t.gql(REGISTER, { input: registerInput({ email: 'x', password: '1', website: 'nope' }) });
    expect(Object.keys(fieldErrors(result) ?? {}).sort()).toEqual(['email', 'password', 'website']);
  });

  it('gives an already registered email the same answer, creates nothing and notifies the owner', async () => {
    const first = registerInput();
    const firstAnswer = await t.gql(REGISTER, { input: first });
    await t.inbox.waitForMail(first.email);

    const again = await t.gql(REGISTER, { input: { ...first, email: first.email.toUpperCase(), companyName: 'Impostor' } });
    expect(again).toEqual(firstAnswer);
    const notice = await t.inbox.waitForMail(first.email, 2);
    expect(notice.subject).toMatch(/already registered/i);
    expect(notice.text).not.toMatch(/token=/);
    expect(await countRows(`select count(*) from "user" where email = $1`, [first.email])).toBe(1);
    expect(await countRows(`select count(*) from startup_profile where company_name = 'Impostor'`)).toBe(0);
  });

  it('creates one user when the same email registers 20 times at once', async () => {
    const input = registerInput();
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(REGISTER, { input })));
    expect(new Set(results.map((r) => JSON.stringify(r)))).toEqual(new Set([JSON.stringify(results[0])]));
    expect(results[0]?.data).toBeTruthy();
    expect(await countRows(`select count(*) from "user" where email = $1`, [input.email])).toBe(1);
    expect(await countRows(`select count(*) from startup_profile s join "user" u on u.id = s.owner_id where u.email = $1`, [input.email])).toBe(1);
  });

  it('never leaves a user without a profile when the profile cannot be written', async () => {
    // A profile that violates a database constraint after validation passed: the user insert must roll back too.
    await withClient(t.db.url, (client) => client.query(`alter table startup_profile add constraint no_doomed check (company_name <> 'Doomed Inc')`));
    try {
      const input = registerInput({ companyName: 'Doomed Inc' });
      const result = await t.gql(REGISTER, { input });
      expect(errorCode(result)).toBe('INTERNAL_SERVER_ERROR');
      expect(result.errors?.[0]?.message).toBe('Unexpected error.');
      expect(await countRows(`select count(*) from "user" where email = $1`, [input.email])).toBe(0);
      expect(await countRows(`select count(*) from mail_outbox where recipient = $1`, [input.email])).toBe(0);
    } finally {
      await withClient(t.db.url, (client) => client.query(`alter table startup_profile drop constraint no_doomed`));
    }
  });
});

describe('activate', () => {
  it('activates the account once; the same token then gives INVALID_TOKEN', async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const token = tokenFromMail(await t.inbox.waitForMail(input.email));

    const activated = await t.gql(ACTIVATE, { token });
    expect(activated.data).toEqual({ activate: { id: expect.any(String), email: input.email, role: 'STARTUP', isActive: true } });
    expect(await countRows(`select count(*) from "user" where email = $1 and is_active`, [input.email])).toBe(1);

    expect(errorCode(await t.gql(ACTIVATE, { token }))).toBe('INVALID_TOKEN');
  });

  it('lets exactly one of many concurrent activations with one token succeed', async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const token = tokenFromMail(await t.inbox.waitForMail(input.email));
    const results = await Promise.all(Array.from({ length: 10 }, () => t.gql(ACTIVATE, { token })));
    expect(results.filter((r) => r.data?.activate).length).toBe(1);
    expect(results.filter((r) => errorCode(r) === 'INVALID_TOKEN').length).toBe(9);
  });

  it.each([
    ['a tampered token', (token: string) => `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`],
    ['garbage', () => 'not-a-token'],
    ['an empty string', () => ''],
    ['a huge string', () => 'x'.repeat(50_000)],
  ])('refuses %s with INVALID_TOKEN', async (_name, mutate) => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const token = tokenFromMail(await t.inbox.waitForMail(input.email));
    expect(errorCode(await t.gql(ACTIVATE, { token: mutate(token) }))).toBe('INVALID_TOKEN');
    expect(await countRows(`select count(*) from "user" where email = $1 and is_active`, [input.email])).toBe(0);
  });

  it('refuses an expired token with TOKEN_EXPIRED', async () => {
    const short = await startTestApp({ env: { ACTIVATION_TOKEN_TTL: '1' }, db: t.db, inbox: t.inbox });
    try {
      const input = registerInput();
      await short.gql(REGISTER, { input });
      const token = tokenFromMail(await t.inbox.waitForMail(input.email));
      await sleep(1_100); // the token must really expire
      expect(errorCode(await short.gql(ACTIVATE, { token }))).toBe('TOKEN_EXPIRED');
      expect(await countRows(`select count(*) from "user" where email = $1 and is_active`, [input.email])).toBe(0);
    } finally {
      await short.stop();
    }
  });

  it('does not accept a password-reset purpose token for activation', async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const token = tokenFromMail(await t.inbox.waitForMail(input.email));
    await withClient(t.db.url, (client) =>
      client.query(`update email_token set purpose = 'password_reset' where user_id = (select id from "user" where email = $1)`, [input.email]),
    );
    expect(errorCode(await t.gql(ACTIVATE, { token }))).toBe('INVALID_TOKEN');
  });
});

describe('resendActivation', () => {
  it('answers identically for unknown, inactive and active emails, and mails only the inactive one', async () => {
    const inactive = registerInput();
    await t.gql(REGISTER, { input: inactive });
    await t.inbox.waitForMail(inactive.email);

    const active = registerInput();
    await t.gql(REGISTER, { input: active });
    await t.gql(ACTIVATE, { token: tokenFromMail(await t.inbox.waitForMail(active.email)) });

    const unknown = uniqueEmail('nobody');
    const answers = await Promise.all([unknown, inactive.email, active.email].map((email) => t.gql(RESEND, { email })));
    expect(answers[0]?.data?.resendActivation).toMatchObject({ ok: true });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);

    await t.inbox.waitForMail(inactive.email, 2);
    // A registration after these is mailed; no wrongly queued mail came before it.
    const later = registerInput();
    await t.gql(REGISTER, { input: later });
    await t.inbox.waitForMail(later.email);
    expect(t.inbox.mailsTo(unknown)).toHaveLength(0);
    expect(t.inbox.mailsTo(active.email)).toHaveLength(1);
  });

  it('makes older activation tokens invalid', async () => {
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const oldToken = tokenFromMail(await t.inbox.waitForMail(input.email));
    await t.gql(RESEND, { email: input.email });
    const newToken = tokenFromMail(await t.inbox.waitForMail(input.email, 2));
    expect(newToken).not.toBe(oldToken);
    expect(errorCode(await t.gql(ACTIVATE, { token: oldToken }))).toBe('INVALID_TOKEN');
    expect((await t.gql(ACTIVATE, { token: newToken })).data?.activate).toMatchObject({ isActive: true });
  });

  it('sends at most one email per cooldown without changing the answer', async () => {
    const cool = await startTestApp({ env: { EMAIL_COOLDOWN_SECONDS: '60' }, db: t.db, inbox: t.inbox });
    try {
      const input = registerInput();
      await cool.gql(REGISTER, { input });
      await t.inbox.waitForMail(input.email);
      const answers = await Promise.all(Array.from({ length: 5 }, () => cool.gql(RESEND, { email: input.email })));
      expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
      // A registration after the resends is mailed; no resend mail came before it.
      const later = registerInput();
      await cool.gql(REGISTER, { input: later });
      await t.inbox.waitForMail(later.email);
      // The registration mail started the cooldown, so none of the resends mailed.
      expect(t.inbox.mailsTo(input.email)).toHaveLength(1);
    } finally {
      await cool.stop();
    }
  });

  it('rejects a malformed email with BAD_USER_INPUT', async () => {
    const result = await t.gql(RESEND, { email: 'nope' });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(fieldErrors(result)).toEqual({ email: expect.any(String) });
  });
});
