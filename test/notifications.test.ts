import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { MARK_READ, chatPair, sendMessage } from './helpers/chat.js';
import { UPDATE_SETTINGS } from './helpers/presence.js';
import type { ReceivedMail } from './helpers/smtp.js';
import { startAppWithCuttableRedis, type AppWithCuttableRedis } from './helpers/instances.js';
import { redisAvailableFor } from './helpers/redis.js';
import { connectedWs } from './helpers/ws.js';
import { StatementLog } from './helpers/statements.js';
import { eventually } from './helpers/time.js';

const NOTIFICATION_ENV = { UNREAD_EMAIL_DELAY_SECONDS: '1', UNREAD_EMAIL_SCAN_SECONDS: '0.2', PRESENCE_GRACE_SECONDS: '0.5' };
const SETTINGS = /* GraphQL */ `query { me { settings { emailOnUnreadMessages showPresence } } }`;

/** Unread-message emails to `address` (the first mail of every test user is its activation). */
const unreadMails = (t: TestApp, address: string) => t.inbox.mailsTo(address).filter((mail) => mail.headers['list-unsubscribe']);

/** The `n`-th unread-message email to `address`, waiting for it (after the activation email). */
async function nthUnreadMail(t: TestApp, address: string, n = 1, timeoutMs?: number): Promise<ReceivedMail> {
  const mail = await t.inbox.waitForMail(address, n + 1, timeoutMs);
  if (!mail.headers['list-unsubscribe']) throw new Error(`mail #${n + 1} to ${address} is "${mail.subject}", not an unread-message email`);
  return mail;
}

/**
 * Waits until every unread-message email due before this call has been sent (or provably will
 * not be): two sentinel emails in turn. The scan examines messages in sending order, and the
 * outbox sends a batch before it claims the next, so once the second sentinel has arrived,
 * anything queued with or before the first has been sent.
 */
async function flushUnreadEmails(t: TestApp): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const { investor, startup, conversationId } = await chatPair(t);
    await sendMessage(t, investor, conversationId, `sentinel ${round}`);
    await nthUnreadMail(t, startup.email);
  }
}

/** The List-Unsubscribe link, pointed at the test server (APP_URL is the default, port 4000). */
const unsubscribeUrl = (t: TestApp, mail: ReceivedMail) => mail.headers['list-unsubscribe']!.replace(/^<|>$/g, '').replace(t.config.APP_URL, t.url);

async function metric(t: TestApp, name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

describe('unread-message emails', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: NOTIFICATION_ENV });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('emails an offline recipient once per conversation until they read it again: company, unread count, preview, link, one-click headers', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const long = `Our fund would like to see the deck. ${'Numbers, team and market. '.repeat(20)}`.trim();
    await sendMessage(t, investor, conversationId, 'Hello from Dnipro Ventures');
    await sendMessage(t, investor, conversationId, long);

    const mail = await nthUnreadMail(t, startup.email);
    expect(mail.subject).toContain('Dnipro Ventures');
    expect(mail.text).toContain('2 unread messages');
    expect(mail.text).toContain(`${t.config.APP_URL}/conversations/${conversationId}`);
    expect(mail.html).toContain(`${t.config.APP_URL}/conversations/${conversationId}`);
    const quoted = mail.text.match(/“(.*)”/)?.[1] ?? '';
    expect([...quoted].length).toBeLessThanOrEqual(200);
    expect(long.startsWith(quoted.replace(/…$/, ''))).toBe(true);
    expect(mail.headers['list-unsubscribe']).toMatch(new RegExp(`^<${t.config.APP_URL}/unsubscribe\\?token=[^>]+>$`));
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

    // Still unread: a third message brings no second email.
    await sendMessage(t, investor, conversationId, 'Any news?');
    await flushUnreadEmails(t);
    expect(unreadMails(t, startup.email)).toHaveLength(1);

    // Read, then a new message left unread: a new email, counting only what came after.
    expect((await t.gql(MARK_READ, { conversationId }, { token: startup.tokens.accessToken })).errors).toBeUndefined();
    await sendMessage(t, investor, conversationId, 'One more thing');
    const second = await nthUnreadMail(t, startup.email, 2);
    expect(second.text).toContain('1 unread message');
    expect(second.text).toContain('One more thing');
  });

  it('sends nothing for a message that fell due while its recipient was online', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const socket = await connectedWs(t.wsUrl, { token: startup.tokens.accessToken });
    await sendMessage(t, investor, conversationId, 'Seen live');
    await flushUnreadEmails(t); // the message fell due and was examined while the socket was open
    await socket.dispose();

    await sendMessage(t, investor, conversationId, 'Written while you were away');
    const mail = await nthUnreadMail(t, startup.email);
    expect(mail.text).toContain('Written while you were away');
    expect(mail.text).toContain('2 unread messages'); // both are unread; only the second fell due offline
    expect(unreadMails(t, startup.email)).toHaveLength(1);
  });

  it('never emails a recipient who turned emailOnUnreadMessages off', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    await t.gql(UPDATE_SETTINGS, { input: { emailOnUnreadMessages: false } }, { token: startup.tokens.accessToken });
    await sendMessage(t, investor, conversationId, 'Nobody will be told');
    await flushUnreadEmails(t);
    expect(unreadMails(t, startup.email)).toEqual([]);
  });

  it('keeps the email in the outbox while the mail server is down and sends it when it is back', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const queuedBefore = await metric(t, 'forum_unread_emails_queued_total');
    await t.inbox.stop();
    try {
      await sendMessage(t, investor, conversationId, 'Sent during an SMTP outage');
      await eventually(async () => (await metric(t, 'forum_unread_emails_queued_total')) > queuedBefore, 'the email to be queued', 10_000, 100);
    } finally {
      await t.inbox.start();
    }
    const mail = await nthUnreadMail(t, startup.email, 1, 20_000);
    expect(mail.text).toContain('Sent during an SMTP outage');
  });

  it('shows emails due, sent and unsubscribes in /metrics', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    await sendMessage(t, investor, conversationId, 'Counted');
    const mail = await nthUnreadMail(t, startup.email);
    expect(await metric(t, 'forum_unread_emails_due')).toBeGreaterThanOrEqual(0);
    expect(await metric(t, 'forum_emails_sent_total{kind="unread_messages"}')).toBeGreaterThanOrEqual(1);
    const before = await metric(t, 'forum_unsubscribes_total');
    expect((await fetch(unsubscribeUrl(t, mail), { method: 'POST' })).status).toBe(200);
    expect(await metric(t, 'forum_unsubscribes_total')).toBe(before + 1);
  });
});

describe('the unread-email scan when nothing is due', () => {
  // The scan is what this measures, so its workers run (a counted app would idle them).
  const statements = new StatementLog();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: NOTIFICATION_ENV, buildOptions: { onQuery: statements.record } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('costs one index probe per pass: no transaction, no lock, no write', async () => {
    const { investor, conversationId } = await chatPair(t);
    await sendMessage(t, investor, conversationId, 'Examined once');
    const probes = () => statements.all.filter((s) => /from "message" "m" where \("m"\."created_at", "m"\."id"\) >/.test(s) && /limit 1$/.test(s));
    // The message falls due and is examined; after that, passes find nothing.
    await eventually(() => statements.matching(/^update "unread_email_scan"/).length > 0, 'the message to be examined', 15_000, 50);
    const afterExamined = statements.all.length;
    const probesThen = probes().length;
    await eventually(() => probes().length >= probesThen + 5, 'five more passes', 15_000, 100);
    const idle = statements.all.slice(afterExamined);
    expect(idle.filter((s) => /for update|^begin|^update|^insert/i.test(s))).toEqual([]);
  });
});

describe('one-click unsubscribe', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: NOTIFICATION_ENV });
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function emailedPair() {
    const pair = await chatPair(t);
    await sendMessage(t, pair.investor, pair.conversationId, 'Please read me');
    const mail = await nthUnreadMail(t, pair.startup.email);
    return { ...pair, url: unsubscribeUrl(t, mail) };
  }

  const emailSetting = async (token: string) =>
    (await t.gql<{ me: { settings: { emailOnUnreadMessages: boolean } } }>(SETTINGS, {}, { token })).data?.me.settings.emailOnUnreadMessages;

  it('GET shows a page with a button and changes nothing; POST, with no sign-in, turns the emails off', async () => {
    const { startup, url } = await emailedPair();
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<form method="post">/);
    expect(html).toMatch(/<button/);
    expect(await emailSetting(startup.tokens.accessToken)).toBe(true);

    // What a mail client sends for RFC 8058 one-click.
    const posted = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(posted.status).toBe(200);
    expect(await emailSetting(startup.tokens.accessToken)).toBe(false);
  });

  it('answers 400 and changes nothing for a forged, altered or foreign token', async () => {
    const { investor, startup, url } = await emailedPair();
    const token = new URL(url).searchParams.get('token')!;
    const [userId, signature] = token.split('.') as [string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    const forged = [
      `${userId}.${flipped}`, // altered signature
      `${investor.id}.${signature}`, // someone else's id with this signature
      `${userId}.${'A'.repeat(43)}`,
      startup.tokens.accessToken, // a token of another purpose
      userId,
      '',
    ];
    for (const candidate of forged) {
      const target = `${t.url}/unsubscribe?token=${encodeURIComponent(candidate)}`;
      expect((await fetch(target, { method: 'POST' })).status, candidate).toBe(400);
      expect((await fetch(target)).status, candidate).toBe(400);
    }
    expect(await emailSetting(startup.tokens.accessToken)).toBe(true);
    expect(await emailSetting(investor.tokens.accessToken)).toBe(true);
  });
});

describe('unread-message emails with two instances', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ env: NOTIFICATION_ENV });
    b = await startTestApp({ db: a.db, inbox: a.inbox, env: NOTIFICATION_ENV });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('sends exactly one email per conversation although both instances scan', async () => {
    const pairs = await Promise.all(Array.from({ length: 6 }, () => chatPair(a)));
    await Promise.all(pairs.map(({ investor, conversationId }, i) => sendMessage(i % 2 ? a : b, investor, conversationId, `Message ${i}`)));
    await Promise.all(pairs.map(({ startup }) => nthUnreadMail(a, startup.email)));
    await flushUnreadEmails(a);
    for (const { startup } of pairs) expect(unreadMails(a, startup.email)).toHaveLength(1);
  });
});

describe.skipIf(!redisAvailableFor('unread-message emails while Redis is away'))('unread-message emails while Redis is unreachable', () => {
  let cuttable: AppWithCuttableRedis | undefined;
  let a: TestApp;
  let b: TestApp | undefined;
  beforeAll(async () => {
    cuttable = await startAppWithCuttableRedis(NOTIFICATION_ENV);
    a = cuttable.t;
    b = await startTestApp({ db: a.db, inbox: a.inbox, env: { REDIS_URL: cuttable.redisUrl, ...NOTIFICATION_ENV } });
  });
  afterAll(async () => {
    await b?.stop();
    await cuttable?.stop();
  });

  it('still sends exactly one email per conversation: the database decides, not Redis', async () => {
    const pairs = await Promise.all(Array.from({ length: 4 }, () => chatPair(a)));
    cuttable!.proxy.cut();
    try {
      await Promise.all(pairs.map(({ investor, conversationId }, i) => sendMessage(i % 2 ? a : b!, investor, conversationId, `Message ${i}`)));
      await Promise.all(pairs.map(({ startup }) => nthUnreadMail(a, startup.email)));
      await flushUnreadEmails(a);
    } finally {
      cuttable!.proxy.restore();
    }
    for (const { startup } of pairs) expect(unreadMails(a, startup.email)).toHaveLength(1);
  });
});
