import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

export interface RateLimitRule {
  /** Attempts allowed per window; 0 turns the rule off. */
  limit: number;
  windowSeconds: number;
}

export interface LimitState {
  count: number;
  /** Seconds until the window resets. */
  resetIn: number;
}

/** Fixed-window counters: simple, and exact enough for abuse limits. */
export interface CounterStore {
  increment(key: string, windowSeconds: number): Promise<LimitState>;
  /** Gives back one counted attempt (a reservation that turned out not to count). */
  decrement(key: string): Promise<void>;
  peek(key: string): Promise<LimitState | null>;
}

export class MemoryCounterStore implements CounterStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = Date.now();

  async increment(key: string, windowSeconds: number): Promise<LimitState> {
    const now = Date.now();
    this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowSeconds * 1000 };
      this.windows.set(key, window);
    }
    window.count += 1;
    return { count: window.count, resetIn: (window.resetAt - now) / 1000 };
  }

  async decrement(key: string): Promise<void> {
    const window = this.windows.get(key);
    if (window && window.count > 0) window.count -= 1;
  }

  async peek(key: string): Promise<LimitState | null> {
    const now = Date.now();
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now) return null;
    return { count: window.count, resetIn: (window.resetAt - now) / 1000 };
  }

  /** Drops finished windows now and then, so memory follows the active keys only. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

const INCREMENT = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {c, redis.call('PTTL', KEYS[1])}`;

// Never creates a key (a window that ended stays ended) and never goes below zero.
const DECREMENT = `if (tonumber(redis.call('GET', KEYS[1]) or '0') > 0) then redis.call('DECR', KEYS[1]) end
return 0`;

/**
 * Counters shared by every instance. When Redis cannot answer, counting falls back to this
 * instance's memory: a Redis outage weakens the limits a little but never blocks sign-ins.
 */
export class RedisCounterStore implements CounterStore {
  private readonly fallback = new MemoryCounterStore();

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly prefix = 'forum:rl:',
  ) {}

  async increment(key: string, windowSeconds: number): Promise<LimitState> {
    try {
      const [count, ttl] = (await this.redis.eval(INCREMENT, 1, this.prefix + key, windowSeconds * 1000)) as [number, number];
      return { count, resetIn: Math.max(ttl, 0) / 1000 };
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'rate limiter: Redis unavailable, counting in memory');
      return this.fallback.increment(key, windowSeconds);
    }
  }

  async decrement(key: string): Promise<void> {
    try {
      await this.redis.eval(DECREMENT, 1, this.prefix + key);
    } catch {
      await this.fallback.decrement(key);
    }
  }

  async peek(key: string): Promise<LimitState | null> {
    try {
      const [count, ttl] = await Promise.all([this.redis.get(this.prefix + key), this.redis.pttl(this.prefix + key)]);
      return count === null || ttl <= 0 ? null : { count: Number(count), resetIn: ttl / 1000 };
    } catch {
      return this.fallback.peek(key);
    }
  }
}
