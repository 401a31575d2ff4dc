/**
 * Keeps a browser signed in: the access token lives in memory only, the refresh token in
 * shared storage (see README "Web client" for why). One refresh at a time per tab, and one
 * across tabs: a tab that starts a refresh says so on a BroadcastChannel, the others wait for
 * the pair it posts instead of rotating the same refresh token themselves. Two tabs that start
 * in the same instant are kept apart by a Web Lock (navigator.locks): the second one gets the
 * lock after the first has rotated, sees that it did, and takes the pair it posted. Without
 * Web Locks both rotate, and only the API's REFRESH_REUSE_GRACE_SECONDS (the very same
 * successor pair for the second) keeps them signed in.
 *
 * Framework-free so it is unit-tested in Node with a real BroadcastChannel.
 */

export interface TokenPair {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
}

export type SignOutReason = 'signed-out' | 'revoked' | 'expired';

export type TokenEvent =
  | { type: 'signed-in'; accessToken: string }
  | { type: 'refreshed'; accessToken: string }
  | { type: 'signed-out'; reason: SignOutReason };

/** A refresh the API refused (`code` set) or that never reached it (`code` undefined). */
export class RefreshFailed extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RefreshFailed';
  }
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The part of BroadcastChannel used here (the DOM's and Node's both fit). */
export interface MessageChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface TokenManagerOptions {
  /** Calls the API's refreshToken mutation; throws RefreshFailed. */
  refresh(refreshToken: string): Promise<TokenPair>;
  storage: KeyValueStorage;
  /** Shared by the tabs of one origin; null for a single tab. */
  channel: MessageChannelLike | null;
  /**
   * Runs `work` while no other tab of the origin runs it (`navigator.locks.request(name, work)`);
   * absent where Web Locks are not available.
   */
  exclusive?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Refresh this long before the access token expires (default 30 s, at most a third of its life). */
  refreshAheadMs?: number;
  /** How long to wait for another tab's refresh before refreshing here (default 10 s). */
  remoteRefreshTimeoutMs?: number;
  now?: () => number;
  /** Spreads the tabs' scheduled refreshes apart (0 ≤ random() < 1). */
  random?: () => number;
}

type ChannelMessage =
  | { type: 'refreshing'; tab: string }
  | { type: 'tokens'; tab: string; pair: TokenPair }
  | { type: 'refresh-failed'; tab: string }
  | { type: 'signed-out'; tab: string; reason: SignOutReason };

export const REFRESH_TOKEN_KEY = 'forum.refreshToken';

/** `exclusive` through the Web Locks API: the lock named `name` is held until `work` settles. */
export function webLock(locks: LockManager, name: string): <T>(work: () => Promise<T>) => Promise<T> {
  return (work) =>
    new Promise((resolve, reject) => {
      locks.request(name, () => work().then(resolve, reject)).catch(reject);
    });
}

/** Answers that mean the session is over; anything else (network, 5xx, rate limit) is retried later. */
const SESSION_ENDED: Record<string, SignOutReason> = {
  TOKEN_REVOKED: 'revoked',
  INVALID_TOKEN: 'revoked',
  UNAUTHENTICATED: 'revoked',
  TOKEN_EXPIRED: 'expired',
};

/**
 * How long a tab that got the refresh lock after another tab rotated waits for that tab's pair
 * on the channel. The pair was posted before the lock was released, so it is normally there.
 */
const PAIR_AFTER_LOCK_MS = 2_000;

/** A token this close to its expiry (at most a fifth of its life) is not sent any more: it could expire on the way. */
const EXPIRY_SAFETY_MS = 5_000;

export class TokenManager {
  private readonly tab = Math.random().toString(36).slice(2);
  private access: { token: string; expiresAt: number; safetyMs: number } | null = null;
  /** In memory: the shared storage changes under us when another tab signs in or out. */
  private session: boolean;
  private inFlight: Promise<string | null> | null = null;
  private remote: { settle(token: string | null): void; promise: Promise<string | null> } | null = null;
  /** Counted so that a tab which waited for the refresh lock can tell whether another tab rotated meanwhile. */
  private refreshesHeard = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<(event: TokenEvent) => void>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: TokenManagerOptions) {
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.session = this.storedRefreshToken() !== null;
    options.channel?.addEventListener('message', (event) => this.receive(event.data as ChannelMessage));
  }

  /** Whether this browser holds a session (its access token may still have to be fetched). */
  get signedIn(): boolean {
    return this.session;
  }

  /** Another tab announced a refresh whose result this tab is waiting for. */
  get refreshingElsewhere(): boolean {
    return this.remote !== null;
  }

  /** The access token if it is safe to send now, without waiting. */
  currentAccessToken(): string | null {
    if (!this.access || this.access.expiresAt - this.access.safetyMs <= this.now()) return null;
    return this.access.token;
  }

  /** True when a request made now should refresh first. */
  needsRefresh(): boolean {
    return this.signedIn && this.currentAccessToken() === null;
  }

  /** A usable access token, refreshing first when needed; null when signed out. */
  async getAccessToken(): Promise<string | null> {
    if (!this.signedIn) return null;
    return this.currentAccessToken() ?? this.refresh();
  }

  /** Rotates the refresh token; concurrent callers (in this tab and others) share one rotation. */
  refresh(): Promise<string | null> {
    this.inFlight ??= this.rotate().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** The API said the access token expired (clocks disagree, or a socket was closed): drop it. */
  expireAccessToken(): void {
    this.access = null;
  }

  signIn(pair: TokenPair): void {
    this.adopt(pair);
    this.post({ type: 'tokens', tab: this.tab, pair });
  }

  /** Forgets the session here and in every tab (after logout, or when the API refused it). */
  signOut(reason: SignOutReason = 'signed-out'): void {
    const wasSignedIn = this.session;
    this.options.storage.removeItem(REFRESH_TOKEN_KEY);
    this.clear();
    if (wasSignedIn) this.post({ type: 'signed-out', tab: this.tab, reason });
    this.emit({ type: 'signed-out', reason });
  }

  subscribe(listener: (event: TokenEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.options.channel?.close();
    this.listeners.clear();
  }

  private async rotate(): Promise<string | null> {
    if (this.remote) {
      const fromOtherTab = await this.remote.promise;
      if (fromOtherTab) return fromOtherTab;
    }
    const { exclusive } = this.options;
    if (!exclusive) return this.rotateStored();
    const before = { stored: this.storedRefreshToken(), heard: this.refreshesHeard, access: this.access };
    return exclusive(async () => {
      // Each adopted pair is a new `access` object.
      if (this.access && this.access !== before.access) {
        // Another tab rotated (or signed in) while this one waited, and its pair is here already.
        const adopted = this.currentAccessToken();
        if (adopted) return adopted;
      } else if (this.refreshesHeard !== before.heard || this.storedRefreshToken() !== before.stored) {
        // Another tab rotated while this one waited; rotating again would reuse the old token.
        const fromOtherTab = await this.pairFromOtherTab(PAIR_AFTER_LOCK_MS);
        if (fromOtherTab) return fromOtherTab;
      }
      return this.rotateStored();
    });
  }

  private async rotateStored(): Promise<string | null> {
    const refreshToken = this.storedRefreshToken();
    if (!refreshToken) return null;
    this.post({ type: 'refreshing', tab: this.tab });
    try {
      const pair = await this.options.refresh(refreshToken);
      this.adopt(pair);
      this.post({ type: 'tokens', tab: this.tab, pair });
      return pair.accessToken;
    } catch (error) {
      const reason = error instanceof RefreshFailed && error.code ? SESSION_ENDED[error.code] : undefined;
      if (reason) {
        this.signOut(reason);
        return null;
      }
      this.post({ type: 'refresh-failed', tab: this.tab });
      throw error;
    }
  }

  private adopt(pair: TokenPair): void {
    const wasSignedOut = !this.session;
    this.session = true;
    this.options.storage.setItem(REFRESH_TOKEN_KEY, pair.refreshToken);
    const expiresAt = Date.parse(pair.accessTokenExpiresAt);
    this.access = { token: pair.accessToken, expiresAt, safetyMs: Math.max(0, Math.min(EXPIRY_SAFETY_MS, (expiresAt - this.now()) / 5)) };
    this.settleRemote(pair.accessToken);
    this.schedule();
    this.emit({ type: wasSignedOut ? 'signed-in' : 'refreshed', accessToken: pair.accessToken });
  }

  /** Refreshes ahead of expiry, so requests and the socket never wait for it. */
  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.access) return;
    const lifetime = this.access.expiresAt - this.now();
    const ahead = Math.min(this.options.refreshAheadMs ?? 30_000, lifetime / 3);
    // Up to a sixth of the lead time of jitter: tabs that got the same pair do not all fire at once.
    const delay = Math.max(0, lifetime - ahead - this.random() * (ahead / 2));
    this.timer = setTimeout(() => {
      this.refresh().catch(() => {
        // Offline or the API is down: the next request or socket reconnect tries again.
      });
    }, delay);
  }

  private receive(message: ChannelMessage): void {
    if (message.tab === this.tab) return;
    switch (message.type) {
      case 'refreshing':
        this.refreshesHeard += 1;
        // Waiting starts now, so that a token needed meanwhile waits for this pair (see rotate).
        if (!this.inFlight) void this.pairFromOtherTab(this.options.remoteRefreshTimeoutMs ?? 10_000);
        return;
      case 'tokens':
        this.adopt(message.pair);
        return;
      case 'refresh-failed':
        this.settleRemote(null);
        return;
      case 'signed-out':
        this.clear();
        this.emit({ type: 'signed-out', reason: message.reason });
        return;
    }
  }

  /** Waits for the pair another tab is rotating; null when it failed or did not answer in time. */
  private pairFromOtherTab(timeoutMs: number): Promise<string | null> {
    if (this.remote) return this.remote.promise;
    let settle: (token: string | null) => void = () => {};
    const promise = new Promise<string | null>((resolve) => {
      // The other tab may have closed mid-refresh: then this tab refreshes itself.
      const timeout = setTimeout(() => this.settleRemote(null), timeoutMs);
      settle = (token) => {
        clearTimeout(timeout);
        resolve(token);
      };
    });
    this.remote = { settle, promise };
    return promise;
  }

  private settleRemote(token: string | null): void {
    const remote = this.remote;
    this.remote = null;
    remote?.settle(token);
  }

  private clear(): void {
    this.session = false;
    clearTimeout(this.timer);
    this.access = null;
    this.settleRemote(null);
  }

  private storedRefreshToken(): string | null {
    return this.options.storage.getItem(REFRESH_TOKEN_KEY);
  }

  private post(message: ChannelMessage): void {
    this.options.channel?.postMessage(message);
  }

  private emit(event: TokenEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
