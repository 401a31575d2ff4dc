import type { EnvInput } from '../../src/env.js';
import { startTestApp, type TestApp } from './app.js';
import { redisBehindProxy, useRedis } from './redis.js';
import type { TcpProxy } from './tcp-proxy.js';

export interface InstancePair {
  a: TestApp;
  b: TestApp;
  stop(): Promise<void>;
}

/**
 * Two instances of one deployment: a shared fresh database, inbox and Redis. B re-reads
 * revocations from the database only hourly, so whatever reaches it in time came through Redis.
 */
export async function startInstancesOverRedis(env: EnvInput = {}): Promise<InstancePair> {
  const redis = await useRedis();
  if (!redis) throw new Error('Redis was expected to be available');
  const a = await startTestApp({ env: { REDIS_URL: redis.url, ...env } });
  const b = await startTestApp({ db: a.db, inbox: a.inbox, env: { REDIS_URL: redis.url, REVOCATION_SYNC_SECONDS: '3600', ...env } });
  return {
    a,
    b,
    async stop() {
      await b.stop();
      await a.stop();
      await redis.stop();
    },
  };
}

export interface AppWithCuttableRedis {
  t: TestApp;
  /** Cut to take Redis away from the app, restore to give it back. */
  proxy: TcpProxy;
  /** The Redis itself, not through the proxy (for a second instance that keeps its Redis). */
  redisUrl: string;
  stop(): Promise<void>;
}

/** An app whose Redis goes through a proxy the test can cut (guard with redisAvailableFor()). */
export async function startAppWithCuttableRedis(env: EnvInput = {}): Promise<AppWithCuttableRedis> {
  const redis = await redisBehindProxy();
  const t = await startTestApp({ env: { REDIS_URL: redis.proxy.proxied(redis.redis.url), ...env } });
  return {
    t,
    proxy: redis.proxy,
    redisUrl: redis.redis.url,
    async stop() {
      await t.stop();
      await redis.stop();
    },
  };
}
