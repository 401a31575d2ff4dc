import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { parseConfig } from '../src/env.js';
import { TEST_SECRET, errorCode, gql, startTestApp, type TestApp } from './helpers/app.js';
import { LOGOUT_ALL, ME, REQUEST_RESET, RESET } from './helpers/graphql.js';
import { whileTableLocked } from './helpers/database.js';
import { createActiveUser, login } from './helpers/factories.js';
import { tokenFromMail } from './helpers/smtp.js';

describe('GET /reset-password', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('serves the page the reset email links to, whose form runs resetPassword; opening it does not use the token', async () => {
    const user = await createActiveUser(t);
    await t.gql(REQUEST_RESET, { email: user.email });
    const mail = await t.inbox.waitForMail(user.email, 2);
    const link = mail.text.match(/https?:\/\/\S+\/reset-password\?token=[\w-]+/)?.[0];
    expect(link).toBeDefined();
    const page = await fetch(`${t.url}/reset-password?token=${encodeURIComponent(tokenFromMail(mail))}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('resetPassword(token: $token, newPassword: $newPassword)');
    expect(html).toContain('type="password"');
    // The page (as a mail scanner would) was opened; the token still works once.
    expect((await t.gql(RESET, { token: tokenFromMail(mail), newPassword: 'a brand new password' })).data).toEqual({ resetPassword: { ok: true } });
    expect(errorCode(await t.gql(RESET, { token: tokenFromMail(mail), newPassword: 'another new password' }))).toBe('INVALID_TOKEN');
  });
});

describe('GET /metrics in production', () => {
  let hidden: TestApp;
  let guarded: TestApp;
  const METRICS_TOKEN = 'metrics-token-for-the-scraper-0123456789';
  beforeAll(async () => {
    [hidden, guarded] = await Promise.all([
      startTestApp({ env: { NODE_ENV: 'production' } }),
      startTestApp({ env: { NODE_ENV: 'production', METRICS_TOKEN } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([hidden?.stop(), guarded?.stop()]);
  });

  it('answers 404 without METRICS_TOKEN', async () => {
    expect((await fetch(`${hidden.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${hidden.url}/metrics`, { headers: { authorization: 'Bearer anything' } })).status).toBe(404);
  });

  it('answers 401 without the right bearer token, and the metrics with it', async () => {
    expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    const ok = await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('forum_http_requests_total');
  });
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe.skipIf(!process.env.DATABASE_URL)('start-up order (needs DATABASE_URL: it holds a lock on a real server)', () => {
  it('does not accept connections before it knows the revoked sessions, so a restart never reopens a logged-out session', async () => {
    // A does not re-read revocations during the test: whoever waits for the lock is B.
    const a = await startTestApp({ env: { REVOCATION_SYNC_SECONDS: '3600' } });
    const user = await createActiveUser(a);
    const tokens = await login(a, user);
    await a.gql(LOGOUT_ALL, {}, { token: tokens.accessToken });

    const config = parseConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JWT_SECRET: TEST_SECRET,
      DATABASE_URL: a.db.url,
      SMTP_URL: a.inbox.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'forum-test-')),
      REVOCATION_SYNC_SECONDS: '3600',
    });
    const port = await freePort();
    const b = await buildApp(config);
    try {
      // Holds B's loading of revoked sessions until the test has looked at B.
      const { starting } = await whileTableLocked(a.db.url, 'session', async (blocker) => {
        const starting = b.start(port);
        // Wait until B is waiting for that lock: by then it has tried to load the revocations.
        const deadline = Date.now() + 20_000;
        for (;;) {
          // (pg_stat_activity would not do: a statement waiting in its parse step still shows the previous one.)
          const { rows } = await blocker.query(`select count(*)::int as n from pg_locks where not granted and relation = '"session"'::regclass`);
          if (rows[0].n > 0) break;
          if (Date.now() > deadline) throw new Error('the instance never waited for the lock');
          await new Promise((resolve) => setImmediate(resolve));
        }
        const early = await gql<{ me: { id: string } | null }>(`http://127.0.0.1:${port}`, ME, {}, { token: tokens.accessToken }).catch((error: Error) => ({
          refused: error.message,
        }));
        expect(early).not.toHaveProperty('data.me.id');
        return { starting };
      });
      await starting;
      const after = await gql(`http://127.0.0.1:${port}`, ME, {}, { token: tokens.accessToken });
      expect(errorCode(after)).toBe('TOKEN_REVOKED');
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      await b.stop();
      await a.stop();
    }
  }, 60_000);
});
