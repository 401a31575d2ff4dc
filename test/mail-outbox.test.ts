import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { withClient } from './helpers/database.js';
import { REGISTER } from './helpers/graphql.js';
import { registerInput } from './helpers/factories.js';
import { TestInbox, tokenFromMail } from './helpers/smtp.js';
import { eventually } from './helpers/time.js';

describe('mail outbox', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('keeps registering while SMTP is down and delivers the email once it is back', async () => {
    await t.inbox.stop();
    const input = registerInput();
    const result = await t.gql(REGISTER, { input });
    expect(result.data?.register).toMatchObject({ ok: true });
    const users = await withClient(t.db.url, async (c) => (await c.query(`select count(*) from "user" where email = $1`, [input.email])).rows[0].count);
    expect(Number(users)).toBe(1);

    // Wait until the worker has failed against the closed port (it records the error).
    const pending = await eventually(async () => {
      const rows = await withClient(
        t.db.url,
        async (c) => (await c.query(`select attempts, sent_at, last_error from mail_outbox where recipient = $1`, [input.email])).rows,
      );
      return rows.some((row) => row.last_error !== null) && rows;
    }, 'the failed delivery attempt');
    expect(pending).toHaveLength(1);
    expect(pending[0].sent_at).toBeNull();
    // A transport failure is the instance's, not the mail's: its attempts (and backoff) stay.
    expect(pending[0].attempts).toBe(0);
    expect(pending[0].last_error).toEqual(expect.any(String));

    await t.inbox.start();
    const mail = await t.inbox.waitForMail(input.email, 1, 15_000);
    expect(tokenFromMail(mail)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The SMTP server has the mail before the worker records it as sent: poll for the record.
    const sentAt = await eventually(
      () =>
        withClient(
          t.db.url,
          async (c) => (await c.query(`select sent_at from mail_outbox where recipient = $1`, [input.email])).rows[0].sent_at as Date | null,
        ),
      'the outbox to record the email as sent',
      5_000,
      100,
    );
    expect(sentAt).not.toBeNull();
  });
});

describe('mail without SMTP_URL', () => {
  it('writes .eml files under DATA_DIR/mail and logs the link outside production', async () => {
    const inbox = new TestInbox();
    const t = await startTestApp({ env: { SMTP_URL: '' }, inbox });
    try {
      const input = registerInput();
      await t.gql(REGISTER, { input });
      const dir = join(t.config.DATA_DIR, 'mail');
      const emlFiles = () => {
        try {
          return readdirSync(dir).filter((f) => f.endsWith('.eml'));
        } catch {
          return [];
        }
      };
      const files = await eventually(
        () => {
          const found = emlFiles();
          return found.length > 0 && found;
        },
        'the .eml file',
        5_000,
        100,
      );
      expect(files).toHaveLength(1);
      const eml = readFileSync(join(dir, files[0]!), 'utf8');
      expect(eml).toContain(`To: ${input.email}`);
      expect(eml).toContain('/activate?token=');
      expect(eml).toMatch(/Content-Type: text\/html/);
      expect(eml).toMatch(/Content-Type: text\/plain/);
    } finally {
      await t.stop();
    }
  });
});
