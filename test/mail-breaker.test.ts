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
  it('lets the healthy instance send at once, without growing the mail’s backoff, and sends again within seconds of recovery', async () => {
    const brokenPort = await closedPort();
    // The default retry base (2 s): a mail pushed back by the broken instance would show.
    const env = { MAIL_RETRY_BASE_MS: '2000', MAIL_POLL_MS: '200' };
    const broken = await startTestApp({ env: { ...env, SMTP_URL: `smtp://127.0.0.1:${brokenPort}` } });
    const healthy = await startTestApp({ db: broken.db, env });
    const lateInbox = new TestInbox();
    lateInbox.port = brokenPort;
    try {
      // Registered on the broken instance, which is nudged to send at once and fails.
      for (let i = 0; i < 3; i++) {
        const input = registerInput();
        expect((await broken.gql(REGISTER, { input })).errors).toBeUndefined();
        const answeredAt = Date.now();
        await healthy.inbox.waitForMail(input.email, 1, 10_000);
        console.info(`mail ${i}: delivered ${Date.now() - answeredAt} ms after the answer`);
        // Within the healthy instance's polling, not after the 2 s backoff the broken one gave it before.
        expect(Date.now() - answeredAt).toBeLessThan(1_900);
        expect((await attemptsOf(broken.db.url, input.email)).attempts).toBe(1);
      }

      // Now only the broken instance is left, with mail queued while its SMTP is down.
      await healthy.stop();
      const input = registerInput();
      expect((await broken.gql(REGISTER, { input })).errors).toBeUndefined();
      await lateInbox.start(); // its SMTP comes back, on the same port
      const backAt = Date.now();
      await lateInbox.waitForMail(input.email, 1, 15_000);
      expect(Date.now() - backAt).toBeLessThan(12_000);
    } finally {
      await lateInbox.stop();
      await broken.stop();
    }
  });
});
