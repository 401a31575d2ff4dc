import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A typing state that ran out (no renewal within the timeout); announced by one instance only. */
export type TypingExpiredListener = (conversationId: string, userId: string) => void;

/**
 * Who is typing where. Ephemeral by design (DESIGN.md): in memory, or in Redis keys with TTLs
 * when several instances share the chat; never a table write per keystroke.
 */
export interface TypingStore {
  /** Starts the state, or renews it for another timeout; true when a new state began. */
  start(conversationId: string, userId: string): Promise<boolean>;
  /** Ends the state; true when there was one to end (so exactly one caller announces it). */
  stop(conversationId: string, userId: string): Promise<boolean>;
  /** Conversations where this instance last saw the user typing (to end them when they go). */
  conversationsOf(userId: string): string[];
  close(): void;
}

/** Remembers, per user, the conversations this instance saw them typing in. */
class TypistIndex {
  private readonly byUser = new Map<string, Set<string>>();

  add(userId: string, conversationId: string): void {
    let conversations = this.byUser.get(userId);
    if (!conversations) this.byUser.set(userId, (conversations = new Set()));
    conversations.add(conversationId);
  }

  delete(userId: string, conversationId: string): void {
    const conversations = this.byUser.get(userId);
    conversations?.delete(conversationId);
    if (conversations?.size === 0) this.byUser.delete(userId);
  }

  of(userId: string): string[] {
    return [...(this.byUser.get(userId) ?? [])];
  }
}

const stateKey = (conversationId: string, userId: string) => `${conversationId}:${userId}`;

/** One instance: a timer per typing state. */
export class MemoryTypingStore implements TypingStore {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly typists = new TypistIndex();

  constructor(
    private readonly timeoutMs: number,
    private readonly onExpired: TypingExpiredListener,
  ) {}

  async start(conversationId: string, userId: string): Promise<boolean> {
    const key = stateKey(conversationId, userId);
    const existing = this.timers.get(key);
    clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.typists.delete(userId, conversationId);
      this.onExpired(conversationId, userId);
    }, this.timeoutMs);
    timer.unref();
    this.timers.set(key, timer);
    this.typists.add(userId, conversationId);
    return existing === undefined;
  }

  async stop(conversationId: string, userId: string): Promise<boolean> {
    const key = stateKey(conversationId, userId);
    const timer = this.timers.get(key);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.timers.delete(key);
    this.typists.delete(userId, conversationId);
    return true;
  }

  conversationsOf(userId: string): string[] {
    return this.typists.of(userId);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/** Starts or renews; answers the token of a state that already ran, or nil for a new one (ours). */
const START = `local current = redis.call('GET', KEYS[1])
if current then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

/** Ends the state and claims its announcement: 1 when this caller ended it. */
const STOP = `local current = redis.call('GET', KEYS[1])
if not current then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('SET', ARGV[1] .. current, '1', 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

/**
 * At a state's deadline: the milliseconds left when it was renewed meanwhile (look again then),
 * 0 when it ran out and this caller announces its end, -1 when someone else did.
 */
const CHECK = `local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then return redis.call('PTTL', KEYS[1]) end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 0 end
return -1`;

/** How long "this state's end was announced" is remembered: far beyond any timer's lateness. */
const ENDED_MARK_MS = 60_000;

/**
 * Shared by every instance: one key per state, `PX` = the timeout, renewed by each call. Each
 * state has a random token; the end of a token's state is announced once, by whoever claims its
 * `ended` mark first (an explicit stop, or the instance whose timer finds it expired). An
 * instance that renews a state started elsewhere times it too, so its end is heard even if the
 * first instance has gone.
 */
export class RedisTypingStore implements TypingStore {
  private readonly timers = new Map<string, { token: string; timer: NodeJS.Timeout }>();
  private readonly typists = new TypistIndex();

  constructor(
    private readonly redis: Redis,
    private readonly timeoutMs: number,
    private readonly onExpired: TypingExpiredListener,
    private readonly onError: (error: unknown) => void,
    private readonly prefix = 'typing:',
  ) {}

  async start(conversationId: string, userId: string): Promise<boolean> {
    const key = stateKey(conversationId, userId);
    const token = randomUUID();
    const previous = (await this.redis.eval(START, 1, this.prefix + key, token, this.timeoutMs)) as string | null;
    this.watch(conversationId, userId, previous ?? token, this.timeoutMs);
    return previous === null;
  }

  async stop(conversationId: string, userId: string): Promise<boolean> {
    const key = stateKey(conversationId, userId);
    this.unwatch(key);
    this.typists.delete(userId, conversationId);
    return (await this.redis.eval(STOP, 1, this.prefix + key, `${this.prefix}ended:`, ENDED_MARK_MS)) === 1;
  }

  conversationsOf(userId: string): string[] {
    return this.typists.of(userId);
  }

  close(): void {
    for (const key of [...this.timers.keys()]) this.unwatch(key);
  }

  private watch(conversationId: string, userId: string, token: string, inMs: number): void {
    const key = stateKey(conversationId, userId);
    this.unwatch(key);
    this.typists.add(userId, conversationId);
    // A little after the deadline, so Redis has expired the key by then.
    const timer = setTimeout(() => void this.check(conversationId, userId, token), inMs + 25);
    timer.unref();
    this.timers.set(key, { token, timer });
  }

  private unwatch(key: string): void {
    const watched = this.timers.get(key);
    if (!watched) return;
    clearTimeout(watched.timer);
    this.timers.delete(key);
  }

  private async check(conversationId: string, userId: string, token: string): Promise<void> {
    const key = stateKey(conversationId, userId);
    this.timers.delete(key);
    try {
      const left = Number(await this.redis.eval(CHECK, 2, this.prefix + key, `${this.prefix}ended:${token}`, token, ENDED_MARK_MS));
      if (left > 0) return this.watch(conversationId, userId, token, left);
      this.typists.delete(userId, conversationId);
      if (left === 0) this.onExpired(conversationId, userId);
    } catch (error) {
      this.onError(error);
    }
  }
}
