import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefreshFailed, REFRESH_TOKEN_KEY, TokenManager, type KeyValueStorage, type TokenEvent, type TokenPair, webLock } from './token-manager';

/** localStorage as the tabs of one origin share it. */
class SharedStorage implements KeyValueStorage {
  private readonly values = new Map<string, string>();
  getItem = (key: string) => this.values.get(key) ?? null;
  setItem = (key: string, value: string) => void this.values.set(key, value);
  removeItem = (key: string) => void this.values.delete(key);
}

let serial = 0;
const pairExpiringIn = (ms: number): TokenPair => {
  serial += 1;
  return {
    accessToken: `access-${serial}`,
    accessTokenExpiresAt: new Date(Date.now() + ms).toISOString(),
    refreshToken: `refresh-${serial}`,
    refreshTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  };
};

/** A refresh the test answers when it wants, counting calls. */
function controlledRefresh() {
  const calls: string[] = [];
  let answer: (pair: TokenPair) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const refresh = (refreshToken: string) => {
    calls.push(refreshToken);
    return new Promise<TokenPair>((resolve, reject) => {
      answer = resolve;
      fail = reject;
    });
  };
  return { calls, refresh, answer: (pair: TokenPair) => answer(pair), fail: (error: Error) => fail(error) };
}

const managers: TokenManager[] = [];
const tab = (options: ConstructorParameters<typeof TokenManager>[0]) => {
  const manager = new TokenManager({ random: () => 0, ...options });
  managers.push(manager);
  return manager;
};

/** Each test gets its own channel name: tabs of different tests never hear each other. */
let channelName = '';
beforeEach(() => {
  channelName = `forum-auth-test-${Math.random()}`;
});
afterEach(() => {
  managers.splice(0).forEach((manager) => manager.dispose());
  vi.useRealTimers();
});
const channel = () => new BroadcastChannel(channelName);
/** A Web Lock per test, as navigator.locks gives the tabs of one origin (Node has the same API). */
const exclusive = <T>(work: () => Promise<T>): Promise<T> => webLock(navigator.locks, `${channelName}-refresh`)(work);

describe('token manager in one tab', () => {
  it('gives concurrent callers one refresh when the access token has expired', async () => {
    const storage = new SharedStorage();
    const server = controlledRefresh();
    const tokens = tab({ refresh: server.refresh, storage, channel: null });
    tokens.signIn(pairExpiringIn(-1_000));

    const callers = Promise.all([tokens.getAccessToken(), tokens.getAccessToken(), tokens.refresh(), tokens.getAccessToken()]);
    const next = pairExpiringIn(300_000);
    server.answer(next);

    expect(await callers).toEqual([next.accessToken, next.accessToken, next.accessToken, next.accessToken]);
    expect(server.calls).toHaveLength(1);
    expect(storage.getItem(REFRESH_TOKEN_KEY)).toBe(next.refreshToken);
    // Fresh now: no further refresh.
    expect(await tokens.getAccessToken()).toBe(next.accessToken);
    expect(server.calls).toHaveLength(1);
  });

  it('refreshes on its own before the access token expires', async () => {
    vi.useFakeTimers();
    const server = controlledRefresh();
    const tokens = tab({ refresh: server.refresh, storage: new SharedStorage(), channel: null, refreshAheadMs: 30_000 });
    tokens.signIn(pairExpiringIn(300_000));

    vi.advanceTimersByTime(269_000);
    expect(server.calls).toHaveLength(0);
    vi.advanceTimersByTime(2_000);
    expect(server.calls).toHaveLength(1);
    // The old token is still usable while the refresh runs.
    expect(tokens.currentAccessToken()).not.toBeNull();
  });

  it('treats a token the API expired early (clock skew, socket closed) as gone', async () => {
    const server = controlledRefresh();
    const tokens = tab({ refresh: server.refresh, storage: new SharedStorage(), channel: null });
    tokens.signIn(pairExpiringIn(300_000));
    tokens.expireAccessToken();
    expect(tokens.needsRefresh()).toBe(true);
    const token = tokens.getAccessToken();
    server.answer(pairExpiringIn(300_000));
    expect(await token).toMatch(/^access-/);
    expect(server.calls).toHaveLength(1);
  });

  it.each([
    ['TOKEN_REVOKED', 'revoked'],
    ['INVALID_TOKEN', 'revoked'],
    ['TOKEN_EXPIRED', 'expired'],
  ] as const)('signs out when the API answers the refresh with %s', async (code, reason) => {
    const storage = new SharedStorage();
    const server = controlledRefresh();
    const tokens = tab({ refresh: server.refresh, storage, channel: null });
    const events: TokenEvent[] = [];
    tokens.subscribe((event) => events.push(event));
    tokens.signIn(pairExpiringIn(-1_000));

    const token = tokens.getAccessToken();
    server.fail(new RefreshFailed(code, 'no'));
    expect(await token).toBeNull();
    expect(tokens.signedIn).toBe(false);
    expect(storage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
    expect(events.at(-1)).toEqual({ type: 'signed-out', reason });
  });

  it('stays signed in when the refresh never reached the API, and retries on the next call', async () => {
    const storage = new SharedStorage();
    const server = controlledRefresh();
    const tokens = tab({ refresh: server.refresh, storage, channel: null });
    const first = pairExpiringIn(-1_000);
    tokens.signIn(first);

    const offline = tokens.getAccessToken();
    server.fail(new RefreshFailed(undefined, 'Failed to fetch'));
    await expect(offline).rejects.toThrow('Failed to fetch');
    expect(tokens.signedIn).toBe(true);
    expect(storage.getItem(REFRESH_TOKEN_KEY)).toBe(first.refreshToken);

    const online = tokens.getAccessToken();
    const next = pairExpiringIn(300_000);
    server.answer(next);
    expect(await online).toBe(next.accessToken);
    expect(server.calls).toEqual([first.refreshToken, first.refreshToken]);
  });
});

/** As if the token had expired: without a refresh already scheduled in either tab that would race the test's. */
const expireInBothTabs = (...tabs: TokenManager[]) => tabs.forEach((t) => t.expireAccessToken());

describe('token manager across tabs', () => {
  it('lets one tab rotate while the others wait for its pair, so the refresh token is used once', async () => {
    const storage = new SharedStorage();
    const server = controlledRefresh();
    const a = tab({ refresh: server.refresh, storage, channel: channel() });
    const b = tab({ refresh: server.refresh, storage, channel: channel() });
    const signedIn = pairExpiringIn(300_000);
    a.signIn(signedIn);
    await vi.waitFor(() => expect(b.signedIn).toBe(true));
    expireInBothTabs(a, b);

    const fromA = a.getAccessToken();
    // B hears that A is refreshing before it needs a token itself.
    await vi.waitFor(() => expect(b.refreshingElsewhere).toBe(true));
    const fromB = b.getAccessToken();
    const next = pairExpiringIn(300_000);
    server.answer(next);

    expect(await fromA).toBe(next.accessToken);
    expect(await fromB).toBe(next.accessToken);
    expect(server.calls).toEqual([signedIn.refreshToken]);
    expect(b.currentAccessToken()).toBe(next.accessToken);
  });

  it('rotates once when two tabs start a refresh in the same instant, before either hears the other', async () => {
    const storage = new SharedStorage();
    const server = controlledRefresh();
    const a = tab({ refresh: server.refresh, storage, channel: channel(), exclusive });
    const b = tab({ refresh: server.refresh, storage, channel: channel(), exclusive });
    const signedIn = pairExpiringIn(300_000);
    a.signIn(signedIn);
    await vi.waitFor(() => expect(b.signedIn).toBe(true));
    expireInBothTabs(a, b);

    // Same tick: neither tab has heard the other's "refreshing" yet.
    const fromA = a.getAccessToken();
    const fromB = b.getAccessToken();
    await vi.waitFor(() => expect(server.calls).toHaveLength(1));
    const next = pairExpiringIn(300_000);
    server.answer(next);

    expect(await fromA).toBe(next.accessToken);
    expect(await fromB).toBe(next.accessToken);
    // The refresh token was used once: with no reuse grace the API would have revoked the session.
    expect(server.calls).toEqual([signedIn.refreshToken]);
    // And the next rotation, by either tab, uses the successor.
    expireInBothTabs(a, b);
    const again = b.getAccessToken();
    await vi.waitFor(() => expect(server.calls).toHaveLength(2));
    server.answer(pairExpiringIn(300_000));
    await again;
    expect(server.calls[1]).toBe(next.refreshToken);
  });

  it('refreshes itself when the refreshing tab reports a failure', async () => {
    const storage = new SharedStorage();
    const server = controlledRefresh();
    const a = tab({ refresh: server.refresh, storage, channel: channel() });
    const b = tab({ refresh: server.refresh, storage, channel: channel() });
    a.signIn(pairExpiringIn(300_000));
    await vi.waitFor(() => expect(b.signedIn).toBe(true));
    expireInBothTabs(a, b);

    const fromA = a.getAccessToken().catch(() => 'failed');
    await vi.waitFor(() => expect(b.refreshingElsewhere).toBe(true));
    const fromB = b.getAccessToken();
    server.fail(new RefreshFailed(undefined, 'Failed to fetch'));
    expect(await fromA).toBe('failed');
    await vi.waitFor(() => expect(server.calls).toHaveLength(2));
    const next = pairExpiringIn(300_000);
    server.answer(next);
    expect(await fromB).toBe(next.accessToken);
  });

  it('signs every tab in and out together', async () => {
    const storage = new SharedStorage();
    const server = controlledRefresh();
    const a = tab({ refresh: server.refresh, storage, channel: channel() });
    const b = tab({ refresh: server.refresh, storage, channel: channel() });
    const seenByB: TokenEvent[] = [];
    b.subscribe((event) => seenByB.push(event));

    const pair = pairExpiringIn(300_000);
    a.signIn(pair);
    await vi.waitFor(() => expect(seenByB).toEqual([{ type: 'signed-in', accessToken: pair.accessToken }]));
    expect(b.currentAccessToken()).toBe(pair.accessToken);

    a.signOut('revoked');
    await vi.waitFor(() => expect(seenByB.at(-1)).toEqual({ type: 'signed-out', reason: 'revoked' }));
    expect(b.signedIn).toBe(false);
    expect(b.currentAccessToken()).toBeNull();
    expect(await b.getAccessToken()).toBeNull();
    expect(server.calls).toHaveLength(0);
  });
});
