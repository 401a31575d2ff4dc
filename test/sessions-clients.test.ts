import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from './helpers/app.js';
import { startCountedApp, type CountedApp } from './helpers/statements.js';
import { INBOX, chatPair, sendMessage, type MessageShape } from './helpers/chat.js';
import { ACTIVATE, LOGIN, LOGOUT, ME, REFRESH, REGISTER, REQUEST_RESET, RESEND, RESET } from './helpers/graphql.js';
import { login, registerInput, signedInUser, untilAccessExpired, type Tokens } from './helpers/factories.js';
import { tokenFromMail } from './helpers/smtp.js';
import { connectedWs, subscribe, wsRequest, type Subscription, type WsConnection } from './helpers/ws.js';
import { sleep, withTimeout } from './helpers/time.js';

// How a browser client lives with short access tokens (API.md revision 2: Errors, Tokens and
// sessions, WebSocket connections).

const RENEW = 'mutation Renew($accessToken: String!) { renewConnection(accessToken: $accessToken) }';

let t: TestApp;
beforeAll(async () => {
  // Access tokens of 1 s, so a test can hold an expired one without waiting long.
  t = await startTestApp({ env: { ACCESS_TOKEN_TTL: '1' } });
});
afterAll(async () => {
  await t?.stop();
});

/** A signed-in user whose access token has expired (its session is alive). */
async function idleTab() {
  const user = await signedInUser(t);
  await untilAccessExpired(t, user.tokens.accessToken);
  return user;
}

describe('a stale Authorization header fails only the fields that depend on the viewer', () => {
  it('refreshToken returns a new pair with the expired access token still attached', async () => {
    const user = await idleTab();
    const result = await t.gql<{ refreshToken: Tokens }>(REFRESH, { refreshToken: user.tokens.refreshToken }, { token: user.tokens.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data?.refreshToken.accessToken).toEqual(expect.any(String));
    expect((await t.gql<{ me: { id: string } }>(ME, {}, { token: result.data!.refreshToken.accessToken })).data?.me.id).toBe(user.id);
  });

  it('refreshToken and login work with a malformed, a forged or a revoked token in the header', async () => {
    const user = await signedInUser(t);
    const other = await login(t, user);
    await t.gql(LOGOUT, { refreshToken: other.refreshToken }, { token: other.accessToken });
    for (const authorization of ['Token abc', 'Bearer not.a.jwt', `Bearer ${other.accessToken}`]) {
      const loggedIn = await t.gql<{ login: Tokens }>(LOGIN, { email: user.email, password: user.password }, { headers: { authorization } });
      expect(loggedIn.errors, authorization).toBeUndefined();
      const refreshed = await t.gql(REFRESH, { refreshToken: loggedIn.data!.login.refreshToken }, { headers: { authorization } });
      expect(refreshed.errors, authorization).toBeUndefined();
    }
  });

  it('register, activate, resendActivation, requestPasswordReset and resetPassword ignore an expired header', async () => {
    const { tokens } = await idleTab();
    const token = tokens.accessToken;
    const input = registerInput();
    expect((await t.gql(REGISTER, { input }, { token })).errors).toBeUndefined();
    expect((await t.gql(RESEND, { email: input.email }, { token })).errors).toBeUndefined();
    const activation = await t.inbox.waitForMail(input.email, 2);
    expect((await t.gql(ACTIVATE, { token: tokenFromMail(activation) }, { token })).errors).toBeUndefined();
    expect((await t.gql(REQUEST_RESET, { email: input.email }, { token })).errors).toBeUndefined();
    const reset = await t.inbox.waitForMail(input.email, 3);
    expect((await t.gql(RESET, { token: tokenFromMail(reset), newPassword: 'a brand new passphrase' }, { token })).errors).toBeUndefined();
    expect((await t.gql(LOGIN, { email: input.email, password: 'a brand new passphrase' })).errors).toBeUndefined();
  });

  it('answers viewer-free fields and fails viewer fields with the token code, in one request', async () => {
    const { tokens } = await idleTab();
    const result = await t.gql<{ industries: unknown[]; me: null; mine: null }>(
      '{ industries { id } me { id } mine: me { email } }',
      {},
      { token: tokens.accessToken },
    );
    expect(result.data?.industries.length).toBeGreaterThan(0);
    expect(result.data).toMatchObject({ me: null, mine: null });
    expect(result.errors?.map((error) => [error.path?.[0], error.extensions?.code]).sort()).toEqual([
      ['me', 'TOKEN_EXPIRED'],
      ['mine', 'TOKEN_EXPIRED'],
    ]);
    // A non-null viewer field takes the whole answer down with it, still with the token's code.
    expect(errorCode(await t.gql('{ sessions { id } }', {}, { token: tokens.accessToken }))).toBe('TOKEN_EXPIRED');
  });

  it("fails another user's email (its visibility depends on the viewer) but not the rest of the profile", async () => {
    const owner = await signedInUser(t);
    const { tokens } = await idleTab();
    const result = await t.gql<{ startups: { edges: Array<{ node: { companyName: string; owner: { id: string; email: string | null } | null } }> } }>(
      '{ startups(first: 1) { edges { node { companyName owner { id email } } } } }',
      {},
      { token: tokens.accessToken },
    );
    expect(result.data?.startups.edges[0]?.node.companyName).toEqual(expect.any(String));
    expect(result.errors?.[0]).toMatchObject({ path: ['startups', 'edges', 0, 'node', 'owner', 'email'], extensions: { code: 'TOKEN_EXPIRED' } });
    expect(owner.id).toEqual(expect.any(String));
  });

  it('fails viewer fields with TOKEN_REVOKED for a token of an ended session, never as anonymous', async () => {
    const user = await signedInUser(t);
    const fresh = await login(t, user);
    await t.gql(LOGOUT, { refreshToken: fresh.refreshToken }, { token: fresh.accessToken });
    const result = await t.gql('{ me { id } industries { id } }', {}, { token: fresh.accessToken });
    expect(errorCode(result)).toBe('TOKEN_REVOKED');
    expect(result.data).toMatchObject({ me: null, industries: expect.any(Array) });
  });
});

describe('resolving the viewer', () => {
  let counted: CountedApp;
  beforeAll(async () => {
    counted = await startCountedApp();
  });
  afterAll(async () => {
    await counted?.stop();
  });

  it('reads the user once per operation however many fields ask, and not at all when none does', async () => {
    const user = await signedInUser(counted); // signing in does not warm the authentication cache
    const userReads = () => counted.statements.matching(/from "user" where "id" = /).length;
    let before = userReads();
    expect((await counted.gql('{ industries { id } }', {}, { token: user.tokens.accessToken })).errors).toBeUndefined();
    expect(userReads() - before).toBe(0);

    before = userReads();
    // The three fields resolve side by side: resolved per field, each would miss the cache and read.
    const result = await counted.gql('{ me { id } again: me { id } sessions { current } }', {}, { token: user.tokens.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({ me: { id: user.id }, again: { id: user.id }, sessions: [{ current: true }] });
    expect(userReads() - before).toBe(1);
  });

  it('rotates a refresh token in one statement, without a transaction around it', async () => {
    const user = await signedInUser(counted);
    await counted.gql(ME, {}, { token: user.tokens.accessToken }); // warms the user cache
    counted.statements.clear();
    const rotated = await counted.gql<{ refreshToken: Tokens }>(REFRESH, { refreshToken: user.tokens.refreshToken });
    expect(rotated.errors).toBeUndefined();
    expect(counted.statements.all).toHaveLength(1);
    // The batched rotation (rotateRefreshTokens), here with one session in it.
    expect(counted.statements.all[0]).toMatch(/^with "input" as \(\s*select \* from unnest\(/);
    expect(counted.statements.all[0]).toContain('"won" as');
    // The chain goes on from the successor, and the used token is now reuse.
    expect((await counted.gql(REFRESH, { refreshToken: rotated.data!.refreshToken.refreshToken })).errors).toBeUndefined();
    expect(errorCode(await counted.gql(REFRESH, { refreshToken: user.tokens.refreshToken }))).toBe('TOKEN_REVOKED');
  });
});

describe('logout from an idle tab', () => {
  it('signs out in one request with an expired access token', async () => {
    const user = await idleTab();
    const result = await t.gql(LOGOUT, { refreshToken: user.tokens.refreshToken }, { token: user.tokens.accessToken });
    expect(result).toMatchObject({ data: { logout: { ok: true } } });
    expect(errorCode(await t.gql(REFRESH, { refreshToken: user.tokens.refreshToken }))).toBe('TOKEN_REVOKED');
  });

  it("still refuses another user's refresh token with FORBIDDEN", async () => {
    const user = await idleTab();
    const stranger = await signedInUser(t);
    const result = await t.gql(LOGOUT, { refreshToken: stranger.tokens.refreshToken }, { token: user.tokens.accessToken });
    expect(errorCode(result)).toBe('FORBIDDEN');
    expect((await t.gql(REFRESH, { refreshToken: stranger.tokens.refreshToken })).errors).toBeUndefined();
  });

  it('refuses an expired access token of a session that has ended (TOKEN_REVOKED), a forged one (INVALID_TOKEN) and none (UNAUTHENTICATED)', async () => {
    const user = await signedInUser(t);
    const second = await login(t, user);
    // The first session ends by its own logout, which takes its access token expired or not: a
    // step that needed a live 1-second token could find it expired on a loaded machine.
    const ended = await t.gql(LOGOUT, { refreshToken: user.tokens.refreshToken }, { token: user.tokens.accessToken });
    expect(ended).toMatchObject({ data: { logout: { ok: true } } });
    await untilAccessExpired(t, user.tokens.accessToken);
    const revoked = await t.gql(LOGOUT, { refreshToken: second.refreshToken }, { token: user.tokens.accessToken });
    expect(errorCode(revoked)).toBe('TOKEN_REVOKED');
    const forged = `${user.tokens.accessToken.slice(0, -4)}AAAA`;
    expect(errorCode(await t.gql(LOGOUT, { refreshToken: second.refreshToken }, { token: forged }))).toBe('INVALID_TOKEN');
    expect(errorCode(await t.gql(LOGOUT, { refreshToken: second.refreshToken }))).toBe('UNAUTHENTICATED');
  });
});

describe('renewConnection', () => {
  let chat: TestApp;
  const open: WsConnection[] = [];
  beforeAll(async () => {
    // Long enough to renew well before expiry even on a loaded machine, short enough to wait out.
    chat = await startTestApp({ env: { ACCESS_TOKEN_TTL: '5' } });
  });
  afterAll(async () => {
    await Promise.all(open.map((connection) => connection.dispose()));
    await chat?.stop();
  });

  /** Sends probes until the subscription delivers one: from then on it is live. */
  async function untilLive(feed: Subscription<{ inbox: MessageShape }>, probe: () => Promise<unknown>): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const seen = feed.results.length;
      await probe();
      if (
        await feed.nth(seen, 300).then(
          () => true,
          () => false,
        )
      )
        return;
    }
    throw new Error('the subscription never became live');
  }

  it('keeps a renewed socket open past the old token expiry, delivering live messages, until the new one expires', async () => {
    const { investor, startup, conversationId } = await chatPair(chat);
    const first = await login(chat, startup);
    const socket = await connectedWs(chat.wsUrl, { connectionParams: { authorization: `Bearer ${first.accessToken}` } });
    open.push(socket);
    const inbox = subscribe<{ inbox: MessageShape }>(socket.client, INBOX);
    await untilLive(inbox, () => sendMessage(chat, investor, conversationId, 'probe'));

    await sleep(1_200); // a refresh later in the old token's life, so the new one ends later
    const refreshed = await chat.gql<{ refreshToken: Tokens }>(REFRESH, { refreshToken: first.refreshToken });
    const second = refreshed.data!.refreshToken;
    const oldEnd = new Date(first.accessTokenExpiresAt).getTime();
    const newEnd = new Date(second.accessTokenExpiresAt).getTime();
    expect(newEnd).toBeGreaterThan(oldEnd);
    expect(await wsRequest(socket.client, RENEW, { accessToken: second.accessToken })).toEqual({ data: { renewConnection: true } });

    await untilAccessExpired(chat, first.accessToken); // the server itself refuses the old token now
    expect(socket.isOpen()).toBe(true);
    const seen = inbox.results.length;
    const late = await sendMessage(chat, { ...investor, tokens: await login(chat, investor) }, conversationId, 'after the old expiry');
    expect((await inbox.nth(seen)).data?.inbox).toMatchObject({ id: late.id, body: 'after the old expiry' });

    const closed = await withTimeout(socket.closed, newEnd - Date.now() + 3_000, 'the close at the new expiry');
    expect(closed).toEqual({ code: 4403, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(newEnd - 50);
  }, 20_000);

  it("refuses another session's token with FORBIDDEN, and the old expiry still applies", async () => {
    const user = await signedInUser(chat);
    const mine = await login(chat, user);
    await sleep(2_000); // the other session's token then outlives this one by two seconds or so
    const otherSession = await login(chat, user);
    const socket = await connectedWs(chat.wsUrl, { token: mine.accessToken });
    open.push(socket);
    const refused = await wsRequest(socket.client, RENEW, { accessToken: otherSession.accessToken });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const garbage = await wsRequest(socket.client, RENEW, { accessToken: 'not.a.jwt' });
    expect(garbage.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(socket.isOpen()).toBe(true);

    const oldEnd = new Date(mine.accessTokenExpiresAt).getTime();
    const closed = await withTimeout(socket.closed, oldEnd - Date.now() + 3_000, 'the close at the old expiry');
    expect(closed).toEqual({ code: 4403, reason: 'token expired' });
    // Closed as expired while the token it was offered is still good: the renewal did not stick.
    expect((await chat.gql(ME, {}, { token: otherSession.accessToken })).data).toEqual({ me: { id: user.id } });
  }, 15_000);

  it('answers BAD_REQUEST over HTTP', async () => {
    const user = await signedInUser(chat);
    const result = await chat.gql(RENEW, { accessToken: user.tokens.accessToken }, { token: user.tokens.accessToken });
    expect(errorCode(result)).toBe('BAD_REQUEST');
  });
});
