import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { TcpProxy } from './tcp-proxy.js';
import { eventually } from './time.js';

export interface TestRedis {
  url: string;
  /** Whether this helper started the server itself (and so may stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

export const redisServerInstalled = () => spawnSync('redis-server', ['--version']).status === 0;

/**
 * REDIS_URL when set; otherwise a redis-server of our own on a free port, when one is
 * installed; otherwise null, and the caller skips with a message saying why.
 */
export async function useRedis(): Promise<TestRedis | null> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, owned: false, stop: async () => {} };
  if (!redisServerInstalled()) return null;
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  // A fresh connection per attempt: one that failed keeps reconnecting on its own, and a second
  // connect() on it throws without ever trying, so it would never see the server come up.
  const accepts = async () => {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {}); // connection refusals are expected while the server boots
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  };
  await eventually(accepts, 'redis-server to accept connections', 5_000, 50);
  return {
    url,
    owned: true,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}

export interface ProxiedRedis {
  redis: TestRedis;
  proxy: TcpProxy;
  stop(): Promise<void>;
}

/**
 * A Redis for a test that takes it away: the server of useRedis() behind a TcpProxy the test
 * can cut. Guard the suite with redisAvailableFor().
 */
export async function redisBehindProxy(): Promise<ProxiedRedis> {
  const redis = await useRedis();
  if (!redis) throw new Error('Redis was expected to be available');
  const target = new URL(redis.url);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
  await proxy.start();
  return {
    redis,
    proxy,
    async stop() {
      await proxy.stop();
      await redis.stop();
    },
  };
}

/** Whether this run has a Redis to test with; says why not when it has none. */
export function redisAvailableFor(what: string): boolean {
  const available = Boolean(process.env.REDIS_URL) || redisServerInstalled();
  if (!available) console.warn(`SKIPPED: ${what} needs Redis: set REDIS_URL or install redis-server (CI sets REDIS_URL).`);
  return available;
}
