import { describe, expect, it } from 'vitest';
import { startTestApp } from './helpers/app.js';
import { REGISTER } from './helpers/graphql.js';
import { registerInput } from './helpers/factories.js';
import { TestInbox } from './helpers/smtp.js';
import { captureLogs } from './helpers/logs.js';
import { eventually } from './helpers/time.js';

/** Without SMTP, development logs emailed links with their tokens: loudly announced, never in production. */
async function logsOf(env: Record<string, string>, act: (t: Awaited<ReturnType<typeof startTestApp>>) => Promise<void>): Promise<string> {
  const logs = captureLogs('info');
  const t = await startTestApp({ env: { SMTP_URL: '', ...env }, inbox: new TestInbox(), buildOptions: { logger: logs.logger } });
  try {
    await act(t);
  } finally {
    await t.stop();
  }
  return logs.text();
}

describe('mail without SMTP_URL', () => {
  it('warns at start-up, in development, that links are logged with their tokens', async () => {
    const log = await logsOf({ NODE_ENV: 'development' }, async () => {});
    expect(log).toMatch(/"level":40[^\n]*LOGGED WITH THEIR TOKENS/);
  });

  it('neither warns nor logs links in production', async () => {
    let captured = '';
    const log = await logsOf({ NODE_ENV: 'production' }, async (t) => {
      await t.gql(REGISTER, { input: registerInput() });
      // Wait until the outbox has written the email (and logged that it did).
      await eventually(async () => (await t.app.container.outbox.pendingCount()) === 0, 'the outbox to write the email', 10_000, 50);
      captured = 'done';
    });
    expect(captured).toBe('done');
    expect(log).toContain('email written to file');
    expect(log).not.toContain('LOGGED WITH THEIR TOKENS');
    expect(log).not.toMatch(/token=[\w-]{20,}/);
  });
});
