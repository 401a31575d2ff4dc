import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestApp } from './helpers/app.js';
import { withClient } from './helpers/database.js';
import { REGISTER } from './helpers/graphql.js';
import { registerInput } from './helpers/factories.js';
import { TestInbox } from './helpers/smtp.js';

/** A port nothing listens on (yet): SMTP connections to it are refused. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const attemptsOf = (url: string, email: string) =>
  withClient(
    url,
    async (c) =>
      (await c.query(`select attempts, sent_at from mail_outbox where recipient = $1`, [email])).rows[0] as { attempts: number; sent_at: Date | null },
  );

/**
 * Issue 17 of the security review: instances share the outbox, and one whose SMTP is down must
 * neither hold mail back from the healthy ones nor grow its backoff, and must send its own
 * queued mail within seconds once its SMTP is back.
 */
describe('mail outbox with one instance whose SMTP is down', () => {
  it('lets the healthy instance send at once, without pushing the mail back or growing its backoff', async () => {
    const brokenPort = await closedPort();
    // A retry base of an hour: a mail the broken instance pushed back, or whose backoff it grew,
    // would not be sent within the test at all, so delivery itself is the proof (no timing).
    const env = { MAIL_RETRY_BASE_MS: '3600000', MAIL_POLL_MS: '200' };
    const broken = await startTestApp({ env: { ...env, SMTP_URL: `smtp://127.0.0.1:${brokenPort}` } });
    const healthy = await startTestApp({ db: broken.db, env });
    try {
      // Registered on the broken instance, which is nudged to send at once and fails.
      for (let i = 0; i < 3; i++) {
        const input = registerInput();
        expect((await broken.gql(REGISTER, { input })).errors).toBeUndefined();
        await healthy.inbox.waitForMail(input.email, 1, 10_000);
        expect((await attemptsOf(broken.db.url, input.email)).attempts).toBe(1);
      }
    } finally {
      await healthy.stop();
      await broken.stop();
    }
  });

  it('sends the mail it queued while its SMTP was down within seconds of the SMTP coming back', async () => {
    const brokenPort = await closedPort();
    const broken = await startTestApp({ env: { MAIL_RETRY_BASE_MS: '2000', MAIL_POLL_MS: '200', SMTP_URL: `smtp://127.0.0.1:${brokenPort}` } });
    const lateInbox = new TestInbox();
    lateInbox.port = brokenPort;
    try {
      const input = registerInput();
      expect((await broken.gql(REGISTER, { input })).errors).toBeUndefined();
      await lateInbox.start(); // its SMTP comes back, on the same port
      await lateInbox.waitForMail(input.email, 1, 15_000);
    } finally {
      await lateInbox.stop();
      await broken.stop();
    }
  });
});
