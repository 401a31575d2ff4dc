import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page, WebSocket as BrowserSocket } from 'playwright-core';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startTestApp, uniqueEmail, type TestApp } from './helpers/app.js';
import { createActiveUser, login } from './helpers/factories.js';
import { buildWebClient, CHROMIUM, launchChromium, watchedPage, type WatchedPage } from './helpers/browser.js';
import { tokenFromMail } from './helpers/smtp.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

/** Set by `npm run screenshots`: the main screens are saved there as PNG files. */
const SCREENSHOTS = process.env.WEB_SCREENSHOTS_DIR;
const PASSWORD = 'correct horse battery';

const screenshot = async (page: Page, name: string) => {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
};

const messageItem = (page: Page, text: string) => page.locator('[data-testid=message]', { hasText: text });

/** No console error, except WebSocket/fetch failures while the test itself has cut the network. */
function expectCleanConsole(watched: WatchedPage, cutWindows: Array<{ from: number; to: number }> = []) {
  const unexpected = watched.errors.filter(({ at, text }) => {
    const duringCut = cutWindows.some((w) => at >= w.from && at <= w.to + 2_000);
    if (duringCut && /WebSocket connection to .* failed|ERR_CONNECTION|Failed to fetch/.test(text)) return false;
    return true;
  });
  expect(unexpected).toEqual([]);
  expect(watched.foreignRequests).toEqual([]);
}

/** On failure, what each window showed and logged: the first thing to look at when CI fails here. */
function reportOnFailure(pages: Record<string, WatchedPage>) {
  onTestFailed(async () => {
    const dir = join(tmpdir(), `forum-e2e-failure-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    for (const [name, watched] of Object.entries(pages)) {
      await watched.page.screenshot({ path: join(dir, `${name}.png`) }).catch(() => {});
      console.log(`${name} at ${watched.page.url()}; console errors:`, watched.errors);
    }
    console.log(`failure screenshots in ${dir}`);
  });
}

/**
 * A machine without Chromium skips this file, saying so, so that `npm install && npm test` passes
 * there; under CI (where `.ci/run` installs Chromium) a missing browser fails the file instead.
 */
const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser)
  console.warn(`SKIPPED: the web client's browser test needs Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH). CI installs it.`);

let browser: Browser;
let webClientDir: string;
beforeAll(async () => {
  if (noBrowser) return;
  webClientDir = await buildWebClient();
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(noBrowser)('the web client in Chromium', () => {
  let t: TestApp;
  /** The investor's browser reaches the API through this proxy: cutting it is its network going down. */
  let investorNetwork: TcpProxy;
  const cutWindows: Array<{ from: number; to: number }> = [];

  beforeAll(async () => {
    t = await startTestApp({ env: { WEB_CLIENT_DIR: webClientDir } });
    investorNetwork = new TcpProxy('127.0.0.1', t.port);
    await investorNetwork.start();
  }, 120_000);

  afterAll(async () => {
    await investorNetwork?.stop();
    await t?.stop();
  });

  it('registers, activates, signs in, chats live both ways, survives a network cut and signs out', async () => {
    const investorContext = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const startupContext = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    investorContext.setDefaultTimeout(20_000);
    startupContext.setDefaultTimeout(20_000);
    const investor = await watchedPage(investorContext);
    const startup = await watchedPage(startupContext);
    const investorOrigin = `http://127.0.0.1:${investorNetwork.port}`;
    const investorSockets: BrowserSocket[] = [];
    investor.page.on('websocket', (socket) => investorSockets.push(socket));
    reportOnFailure({ investor, startup });

    const startupEmail = uniqueEmail('startup');
    const investorEmail = uniqueEmail('investor');
    const startupCompany = 'Soil Sensing Labs';
    const investorCompany = 'Dnipro Ventures';

    // Ten startups registered after ours push it to the second page of Browse (newest first).
    const fillers = (async () => {
      await t.inbox.waitForMail(startupEmail);
      for (let i = 1; i <= 10; i++) await createActiveUser(t, { role: 'STARTUP', companyName: `Filler Startup ${i}` });
    })();

    // ── Register: field errors from extensions.fields appear next to their fields ──
    await register(startup.page, t.url, { role: 'a startup', email: startupEmail, company: startupCompany, industry: true, badFirst: true });
    await register(investor.page, investorOrigin, { role: 'an investor', email: investorEmail, company: investorCompany, industry: false, badFirst: false });

    // ── Activate through the link in the email the test SMTP server received ──
    for (const [watched, email, origin] of [
      [startup, startupEmail, t.url],
      [investor, investorEmail, investorOrigin],
    ] as const) {
      const token = tokenFromMail(await t.inbox.waitForMail(email));
      await watched.page.goto(`${origin}/app/activate?token=${encodeURIComponent(token)}`);
      await watched.page.getByRole('button', { name: 'Activate account' }).click();
      await watched.page.getByRole('heading', { name: 'Account activated' }).waitFor();
      await watched.page.getByRole('link', { name: 'Sign in' }).click();
    }

    // ── Sign in; the live connection comes up ──
    await screenshot(investor.page, 'sign-in');
    await signIn(startup.page, startupEmail);
    await signIn(investor.page, investorEmail);

    // ── Browse: "Load more" appends the next page; search narrows; the investor messages the startup ──
    await fillers;
    await investor.page.getByRole('link', { name: 'Browse' }).click();
    const cards = investor.page.locator('.profile');
    const card = cards.filter({ hasText: startupCompany });
    await cards.nth(9).waitFor();
    expect(await cards.count()).toBe(10);
    expect(await card.count()).toBe(0);
    await investor.page.getByRole('button', { name: 'Load more' }).click();
    await card.waitFor();
    expect(await cards.count()).toBe(11);
    await investor.page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });
    await investor.page.getByLabel('Search').fill('sensing');
    await cards.filter({ hasText: 'Filler Startup' }).first().waitFor({ state: 'detached' });
    expect(await cards.count()).toBe(1);
    await screenshot(investor.page, 'browse');
    await card.getByRole('button', { name: 'Message' }).click();
    await investor.page.waitForURL(/\/app\/chats\/[\w-]+$/);

    // ── Live both ways; the startup gets an unread badge until it opens the conversation ──
    await send(investor.page, 'Hello from the investor');
    await startup.page.getByRole('navigation', { name: 'Conversations' }).getByText(investorCompany).waitFor();
    await startup.page.getByRole('navigation', { name: 'Conversations' }).getByLabel('1 unread').waitFor();
    await startup.page.getByRole('navigation', { name: 'Conversations' }).getByText(investorCompany).click();
    await messageItem(startup.page, 'Hello from the investor').waitFor();
    await startup.page.getByRole('navigation', { name: 'Conversations' }).getByLabel('1 unread').waitFor({ state: 'detached' });
    await send(startup.page, 'Hi! Happy to talk');
    await messageItem(investor.page, 'Hi! Happy to talk').waitFor();

    // ── Typing, "seen", presence, edits ──
    await startup.page.getByLabel('Message', { exact: true }).fill('Let me check our numbers');
    await investor.page.getByText(`${startupCompany} is typing…`).waitFor();
    await startup.page.getByRole('button', { name: 'Send' }).click();
    await investor.page.getByText(`${startupCompany} is typing…`).waitFor({ state: 'detached' });
    await messageItem(investor.page, 'Let me check our numbers').waitFor();
    // The startup opened the thread, so the investor's message was read.
    await messageItem(investor.page, 'Hello from the investor').getByText('Seen').waitFor();
    await investor.page.getByTestId('presence').getByText('online').waitFor();
    const own = messageItem(investor.page, 'Hello from the investor');
    await own.getByRole('button', { name: 'Edit' }).click();
    await investor.page.getByLabel('Edit message').fill('Hello from the investor (edited)');
    await investor.page.getByRole('button', { name: 'Save' }).click();
    await messageItem(startup.page, 'Hello from the investor (edited)').getByText('· edited').waitFor();
    await send(investor.page, 'A message to take back');
    await messageItem(startup.page, 'A message to take back').waitFor();
    await messageItem(investor.page, 'A message to take back').getByRole('button', { name: 'Delete' }).click();
    await messageItem(startup.page, 'A message to take back').waitFor({ state: 'detached' });
    await startup.page.getByText('Message deleted').waitFor();
    await screenshot(investor.page, 'chat-investor');
    await screenshot(startup.page, 'chat-startup');

    // ── The investor's network goes down and comes back ──
    const cut = { from: Date.now(), to: Number.POSITIVE_INFINITY };
    cutWindows.push(cut);
    investorNetwork.cut();
    await investor.page.getByTestId('connection').getByText('offline, reconnecting…').waitFor();
    await send(startup.page, 'Sent while you were offline');
    investorNetwork.restore();
    await investor.page.getByTestId('connection').getByText('live').waitFor();
    cut.to = Date.now();
    // Catch-up: the message sent during the cut appears without any new live message, once.
    await messageItem(investor.page, 'Sent while you were offline').waitFor();
    await send(startup.page, 'And this one after you came back');
    await messageItem(investor.page, 'And this one after you came back').waitFor();
    expect(await messageItem(investor.page, 'Sent while you were offline').count()).toBe(1);
    await send(investor.page, 'Back online');
    await messageItem(startup.page, 'Back online').waitFor();

    // ── Sessions: another session of the investor is listed and revoked ──
    const otherDevice = await t.gql<{ login: { accessToken: string } }>(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
      { e: investorEmail, p: PASSWORD },
    );
    await investor.page.getByRole('link', { name: 'Sessions' }).click();
    const rows = investor.page.locator('table.sessions tbody tr');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    await screenshot(investor.page, 'sessions');
    await rows.filter({ hasNotText: 'this browser' }).getByRole('button', { name: 'Revoke' }).click();
    await rows.nth(1).waitFor({ state: 'detached' });
    const revoked = await t.gql(`{ me { id } }`, undefined, { token: otherDevice.data!.login.accessToken });
    expect(revoked.errors?.[0]?.extensions?.code).toBe('TOKEN_REVOKED');

    // ── Sign out: the socket closes and the refresh token is dead ──
    const refreshToken = await investor.page.evaluate(() => window.localStorage.getItem('forum.refreshToken'));
    expect(refreshToken).toBeTruthy();
    const openSockets = investorSockets.filter((socket) => !socket.isClosed());
    expect(openSockets).toHaveLength(1);
    const closed = openSockets[0]!.waitForEvent('close');
    await investor.page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
    await closed;
    await investor.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await investor.page.evaluate(() => window.localStorage.getItem('forum.refreshToken'))).toBeNull();
    const reuse = await t.gql(`mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }`, { r: refreshToken });
    expect(reuse.errors?.[0]?.extensions?.code).toBe('TOKEN_REVOKED');

    expectCleanConsole(investor, cutWindows);
    expectCleanConsole(startup, cutWindows);
    await investorContext.close();
    await startupContext.close();
  }, 180_000);
});

describe.skipIf(noBrowser)('the web client with 6-second access tokens in two tabs', () => {
  let t: TestApp;

  beforeAll(async () => {
    // No reuse grace: if two tabs ever rotated the same refresh token, the API would revoke the
    // session and the tabs would land on the sign-in page.
    t = await startTestApp({ env: { WEB_CLIENT_DIR: webClientDir, ACCESS_TOKEN_TTL: '6', REFRESH_REUSE_GRACE_SECONDS: '0' } });
  }, 120_000);
  afterAll(() => t?.stop());

  it('shares each refresh between both tabs, keeps them in one live session, and signs both out when it is revoked', async () => {
    const [investor, startup] = await Promise.all([
      createActiveUser(t, { role: 'INVESTOR' }),
      createActiveUser(t, { role: 'STARTUP', companyName: 'Soil Sensing Labs' }),
    ]);
    const started = await t.gql<{ startConversation: { id: string } }>(
      `mutation($u: ID!) { startConversation(userId: $u) { id } }`,
      { u: startup.id },
      { token: (await login(t, investor)).accessToken },
    );
    const conversationId = started.data!.startConversation.id;

    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    context.setDefaultTimeout(20_000);
    const first = await watchedPage(context);
    const second = await watchedPage(context);
    reportOnFailure({ first, second });
    const refreshes: string[] = [];
    for (const tab of [first, second]) {
      tab.page.on('request', (request) => {
        if (request.postData()?.includes('mutation Refresh')) refreshes.push(tab === first ? 'first' : 'second');
      });
    }
    const nextRefresh = () =>
      Promise.any(
        [first, second].map((tab) =>
          tab.page.waitForResponse((response) => !!response.request().postData()?.includes('mutation Refresh'), { timeout: 20_000 }),
        ),
      );

    await first.page.goto(`${t.url}/app/sign-in`);
    await signIn(first.page, startup.email);
    // The second tab starts from the refresh token the first one stored: the same session.
    await second.page.goto(`${t.url}/app/chats/${conversationId}`);
    await second.page.getByTestId('connection').getByText('live').waitFor();
    await first.page.goto(`${t.url}/app/chats/${conversationId}`);
    await first.page.getByTestId('connection').getByText('live').waitFor();

    // Three access-token lifetimes: each tab's token expires and is replaced, the refresh token
    // rotates each time, and neither tab is ever signed out.
    for (let round = 1; round <= 3; round++) {
      await nextRefresh();
      // The socket renews in place, so a message sent at any moment arrives live in both tabs.
      const body = `After refresh ${round}`;
      await t.gql(
        `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`,
        { c: conversationId, b: body },
        { token: (await login(t, investor)).accessToken },
      );
      await messageItem(first.page, body).waitFor();
      await messageItem(second.page, body).waitFor();
    }
    expect(refreshes.length).toBeGreaterThanOrEqual(3);

    // Right after a refresh by either tab, both tabs send the access token it returned: the
    // other tab adopted it from the BroadcastChannel instead of refreshing on its own.
    const refreshed = await nextRefresh();
    const { data } = (await refreshed.json()) as { data: { refreshToken: { accessToken: string } } };
    for (const tab of [first, second]) {
      const sessionsRequest = tab.page.waitForRequest((request) => request.url().includes('operationName=Sessions'));
      await tab.page.getByRole('link', { name: 'Sessions' }).click();
      expect((await sessionsRequest).headers().authorization).toBe(`Bearer ${data.refreshToken.accessToken}`);
    }

    // One session for both tabs, still alive.
    const rows = first.page.locator('table.sessions tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    await second.page.getByTestId('connection').getByText('live').waitFor();

    // Signed out everywhere from another device: both tabs go back to sign-in, saying why.
    const elsewhere = await login(t, startup);
    await t.gql(`mutation { logoutAll { ok } }`, undefined, { token: elsewhere.accessToken });
    for (const tab of [first, second]) {
      await tab.page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await tab.page.getByText('Your session was ended').waitFor();
    }
    expect(await first.page.evaluate(() => window.localStorage.getItem('forum.refreshToken'))).toBeNull();

    expectCleanConsole(first);
    expectCleanConsole(second);
    await context.close();
  }, 120_000);
});

async function register(
  page: Page,
  origin: string,
  options: { role: string; email: string; company: string; industry: boolean; badFirst: boolean },
): Promise<void> {
  await page.goto(`${origin}/app/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel(options.role).check();
  await page.getByLabel('Email').fill(options.email);
  await page.getByLabel('Company name').fill(options.company);
  await page.getByLabel('First name').fill('Olena');
  if (options.badFirst) {
    await page.getByLabel('Password').fill('12345678');
    await page.getByLabel('Website').fill('ftp://soil.example');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#field-website-error').waitFor();
    await page.locator('#field-password-error').waitFor();
    await screenshot(page, 'register-errors');
  }
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Website').fill('https://company.example');
  if (options.industry) await page.getByLabel('Industry').selectOption({ index: 1 });
  await page.getByLabel('Location').selectOption({ index: 1 });
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
}

async function signIn(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/app\/chats$/);
  await page.getByTestId('connection').getByText('live').waitFor();
}

async function send(page: Page, body: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(body);
  await page.getByRole('button', { name: 'Send' }).click();
  await messageItem(page, body).waitFor();
}
