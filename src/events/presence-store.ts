import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** What an instance learnt when it registered its users in Redis again after losing it. */
export interface ResyncedUsers {
  /** Users of its sockets whom the others had taken offline meanwhile. */
  cameOnline: string[];
  /** Users who left it while Redis was away, now offline everywhere. */
  wentOffline: string[];
}

/** Users an instance found offline everywhere because another instance stopped renewing. */
export interface ReapedUsers {
  userIds: string[];
  /** The dead instance's last sign of life: the best "last seen" there is for its users. */
  lastSeenAt: Date;
}

/**
 * Who is online across every instance. `join` and `leave` are called by the instance holding
 * the user's sockets (after the grace period for `leave`); their answers say whether the user's
 * state changed for everyone, so exactly one instance announces each change.
 */
export interface PresenceStore {
  /** The user has sockets on this instance now; true when nobody had seen them online before. */
  join(userId: string): Promise<boolean>;
  /** The user has no sockets left on this instance; true when they are now offline everywhere. */
  leave(userId: string): Promise<boolean>;
  /** Which of these users are online anywhere. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /** Called with users whose only instance died (Redis store only). */
  onReaped(listener: (reaped: ReapedUsers) => void): void;
  /** Called with the changes to announce after this instance lost and regained Redis. */
  onResynced(listener: (resynced: ResyncedUsers) => void): void;
  start(): void;
  /** `graceSeconds`: how long the others wait before taking this instance's users offline. */
  stop(graceSeconds: number): Promise<void>;
}

/** Without Redis one instance knows everything: presence is its own sockets. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly users = new Set<string>();

  async join(userId: string): Promise<boolean> {
    if (this.users.has(userId)) return false;
    this.users.add(userId);
    return true;
  }

  async leave(userId: string): Promise<boolean> {
    return this.users.delete(userId);
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.users.has(id)));
  }

  onReaped(): void {}
  onResynced(): void {}
  start(): void {}
  async stop(): Promise<void> {}
}

// Keys (prefix P): P:instances, a sorted set of instance id → the time its renewal expires
// (ms); P:instance-seen, a hash of instance id → its last renewal (ms); P:user:<userId>, the set
// of instances holding that user's sockets; P:instance:<id>, the users an instance holds. A
// user is online while one of their instances has a renewal in the future. Scripts build some
// keys themselves, so this needs one Redis (not a cluster).

const IS_ALIVE = `
local function alive(instances, instance, now)
  local score = redis.call('ZSCORE', instances, instance)
  return score ~= false and tonumber(score) > now
end
local function anyAlive(instances, userKey, now, except)
  for _, instance in ipairs(redis.call('SMEMBERS', userKey)) do
    if instance ~= except and alive(instances, instance, now) then return true end
  end
  return false
end
`;

/** KEYS: instances, seen, user set, instance set. ARGV: instance, user, now, expiry. */
const JOIN = `${IS_ALIVE}
local now = tonumber(ARGV[3])
local wasOnline = anyAlive(KEYS[1], KEYS[3], now, '')
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[2])
if wasOnline then return 0 end
return 1
`;

/** KEYS: instances, user set, instance set. ARGV: instance, user, now. */
const LEAVE = `${IS_ALIVE}
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[2])
if anyAlive(KEYS[1], KEYS[2], tonumber(ARGV[3]), '') then return 0 end
return 1
`;

/** KEYS: instances. ARGV: user key prefix, now, user ids… Returns 1/0 per user. */
const ONLINE = `${IS_ALIVE}
local now = tonumber(ARGV[2])
local result = {}
for i = 3, #ARGV do
  result[#result + 1] = anyAlive(KEYS[1], ARGV[1] .. ARGV[i], now, '') and 1 or 0
end
return result
`;

/**
 * KEYS: instances, seen. ARGV: dead instance, now, prefix. Only the caller that removes the
 * instance from `instances` gets its users: the others get nil.
 */
const REAP = `${IS_ALIVE}
local now = tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score == false or tonumber(score) > now then return false end
redis.call('ZREM', KEYS[1], ARGV[1])
local seen = redis.call('HGET', KEYS[2], ARGV[1]) or score
redis.call('HDEL', KEYS[2], ARGV[1])
local usersKey = ARGV[3] .. 'instance:' .. ARGV[1]
local offline = {}
for _, user in ipairs(redis.call('SMEMBERS', usersKey)) do
  local userKey = ARGV[3] .. 'user:' .. user
  redis.call('SREM', userKey, ARGV[1])
  if not anyAlive(KEYS[1], userKey, now, '') then offline[#offline + 1] = user end
end
redis.call('DEL', usersKey)
return { seen, offline }
`;

export interface RedisPresenceStoreOptions {
  redisUrl: string;
  keyPrefix: string;
  /** An instance that stops renewing takes its users offline within this many seconds. */
  ttlSeconds: number;
  /** Users this instance holds sockets of right now (to re-register after a Redis outage). */
  localUsers: () => Iterable<string>;
  logger: Logger;
}

type PresenceRedis = Redis & {
  presenceJoin(...args: (string | number)[]): Promise<number>;
  presenceLeave(...args: (string | number)[]): Promise<number>;
  presenceOnline(...args: (string | number)[]): Promise<number[]>;
  presenceReap(...args: (string | number)[]): Promise<[string, string[]] | null>;
};

/**
 * Presence shared through Redis. Each instance renews one entry for itself every quarter of the
 * TTL (one command, however many users it holds) and sets an expiry three quarters of the TTL
 * ahead; every renewal also looks for instances whose expiry has passed and reaps them, so a
 * dead instance's users go offline within the TTL. While Redis is unreachable, answers come from
 * this instance's own sockets; when it returns, this instance registers its users again.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly instanceId = randomUUID();
  private readonly redis: PresenceRedis;
  private readonly keys: { instances: string; seen: string; instance: string; user: (id: string) => string; userPrefix: string };
  private readonly reapedListeners: Array<(reaped: ReapedUsers) => void> = [];
  private readonly resyncedListeners: Array<(resynced: ResyncedUsers) => void> = [];
  private timer: NodeJS.Timeout | undefined;
  /** Set when a write did not reach Redis: this instance's users must be registered again. */
  private outOfSync = false;
  private renewing: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: RedisPresenceStoreOptions) {
    const prefix = options.keyPrefix;
    this.keys = {
      instances: `${prefix}instances`,
      seen: `${prefix}instance-seen`,
      instance: `${prefix}instance:${this.instanceId}`,
      user: (id) => `${prefix}user:${id}`,
      userPrefix: `${prefix}user:`,
    };
    // Fail fast while Redis is away (no offline queue): callers fall back to local knowledge.
    const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2_000 });
    redis.on('error', () => {});
    redis.defineCommand('presenceJoin', { numberOfKeys: 4, lua: JOIN });
    redis.defineCommand('presenceLeave', { numberOfKeys: 3, lua: LEAVE });
    redis.defineCommand('presenceOnline', { numberOfKeys: 1, lua: ONLINE });
    redis.defineCommand('presenceReap', { numberOfKeys: 2, lua: REAP });
    // Back after an outage: register again now rather than at the next renewal.
    redis.on('ready', () => {
      if (this.outOfSync && !this.stopped) void this.renewSerially();
    });
    this.redis = redis as PresenceRedis;
  }

  private get renewEveryMs(): number {
    return (this.options.ttlSeconds * 1000) / 4;
  }

  private expiry(now: number): number {
    return now + (this.options.ttlSeconds * 1000 * 3) / 4;
  }

  async join(userId: string): Promise<boolean> {
    const now = Date.now();
    try {
      const result = await this.redis.presenceJoin(
        this.keys.instances,
        this.keys.seen,
        this.keys.user(userId),
        this.keys.instance,
        this.instanceId,
        userId,
        now,
        this.expiry(now),
      );
      return result === 1;
    } catch (error) {
      this.lostSync('join', error);
      return true; // this instance had no socket of theirs: as far as it can tell, they just came online
    }
  }

  async leave(userId: string): Promise<boolean> {
    try {
      return (await this.redis.presenceLeave(this.keys.instances, this.keys.user(userId), this.keys.instance, this.instanceId, userId, Date.now())) === 1;
    } catch (error) {
      this.lostSync('leave', error);
      return true;
    }
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    try {
      const flags = await this.redis.presenceOnline(this.keys.instances, this.keys.userPrefix, Date.now(), ...userIds);
      return new Set(userIds.filter((_, i) => flags[i] === 1));
    } catch {
      const local = new Set(this.options.localUsers());
      return new Set(userIds.filter((id) => local.has(id)));
    }
  }

  onReaped(listener: (reaped: ReapedUsers) => void): void {
    this.reapedListeners.push(listener);
  }

  onResynced(listener: (resynced: ResyncedUsers) => void): void {
    this.resyncedListeners.push(listener);
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      void this.renewSerially().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.renewEveryMs);
        this.timer.unref();
      });
    };
    tick();
  }

  /** One renewal after any in flight, so two never interleave; `stop` waits for the last. */
  private renewSerially(): Promise<void> {
    const next: Promise<void> = (this.renewing ?? Promise.resolve())
      .then(() => this.renew())
      .finally(() => {
        if (this.renewing === next) this.renewing = undefined;
      });
    this.renewing = next;
    return next;
  }

  async stop(graceSeconds: number): Promise<void> {
    const wasRunning = !this.stopped;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.renewing;
    if (!wasRunning) return void this.redis.disconnect();
    try {
      // Not removed at once: users who reconnect elsewhere within the grace announce nothing,
      // and the others reap this instance's remaining users when it runs out.
      const now = Date.now();
      await Promise.race([
        this.redis
          .multi()
          .zadd(this.keys.instances, now + graceSeconds * 1000, this.instanceId)
          .hset(this.keys.seen, this.instanceId, now)
          .exec(),
        new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
      ]);
    } catch {
      // Redis is away: the others reap this instance when its last renewal runs out.
    }
    this.redis.disconnect();
  }

  /** Renews this instance's entry, re-registers its users if needed, and reaps dead instances. */
  private async renew(): Promise<void> {
    const now = Date.now();
    try {
      // The shared keys outlive every instance by a while, then vanish with an abandoned deployment.
      const keep = this.options.ttlSeconds * 10_000;
      const [[, added] = []] =
        (await this.redis
          .multi()
          .zadd(this.keys.instances, this.expiry(now), this.instanceId)
          .hset(this.keys.seen, this.instanceId, now)
          .pexpire(this.keys.instances, keep)
          .pexpire(this.keys.seen, keep)
          .pexpire(this.keys.instance, keep)
          .exec()) ?? [];
      // Absent means the others reaped this instance (Redis was away for longer than the TTL).
      if (added === 1 || this.outOfSync) await this.resync();
      await this.reap(now);
    } catch (error) {
      this.lostSync('renew', error);
    }
  }

  /** Registers the users of this instance's sockets again, and removes those who left meanwhile. */
  private async resync(): Promise<void> {
    this.outOfSync = false;
    const local = new Set(this.options.localUsers());
    const registered = await this.redis.smembers(this.keys.instance);
    const resynced: ResyncedUsers = { cameOnline: [], wentOffline: [] };
    for (const userId of registered) {
      if (!local.has(userId) && (await this.leave(userId))) resynced.wentOffline.push(userId);
    }
    for (const userId of local) {
      if (await this.join(userId)) resynced.cameOnline.push(userId);
    }
    if (this.outOfSync) return; // Redis went away again; the next renewal retries
    this.options.logger.info(
      { online: resynced.cameOnline.length, offline: resynced.wentOffline.length },
      'presence: registered this instance’s users in Redis again',
    );
    if (resynced.cameOnline.length + resynced.wentOffline.length > 0) for (const listener of this.resyncedListeners) listener(resynced);
  }

  private async reap(now: number): Promise<void> {
    const dead = await this.redis.zrangebyscore(this.keys.instances, '-inf', now);
    for (const instance of dead) {
      if (instance === this.instanceId) continue;
      const result = await this.redis.presenceReap(this.keys.instances, this.keys.seen, instance, now, this.options.keyPrefix);
      if (!result) continue; // another instance got there first
      const [seen, userIds] = result;
      this.options.logger.info({ instance, users: userIds.length }, 'presence: took the users of an instance that stopped renewing offline');
      if (userIds.length === 0) continue;
      for (const listener of this.reapedListeners) listener({ userIds, lastSeenAt: new Date(Number(seen)) });
    }
  }

  private lostSync(action: string, error: unknown): void {
    if (!this.outOfSync) {
      this.options.logger.warn(
        { action, err: error instanceof Error ? error.message : String(error) },
        'presence: Redis unreachable; using this instance’s own sockets',
      );
    }
    this.outOfSync = true;
  }
}
