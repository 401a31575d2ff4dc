import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFirstEventTarget } from '../src/events/local-first-event-target.js';
import { createRedisPubSubClients } from '../src/events/pubsub.js';
import { createLogger } from '../src/logger.js';
import { redisAvailableFor, redisBehindProxy, type ProxiedRedis } from './helpers/redis.js';
import { eventually, whenLive } from './helpers/time.js';

describe.skipIf(!redisAvailableFor('the local-first Redis event target'))('local-first Redis event target', () => {
  let redis: ProxiedRedis;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await redisBehindProxy();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  const instance = (url: string) => {
    const { publishClient, subscribeClient } = createRedisPubSubClients(url);
    for (const client of [publishClient, subscribeClient]) client.on('error', () => {});
    clients.push(publishClient, subscribeClient);
    return new LocalFirstEventTarget(publishClient, subscribeClient, createLogger('silent'));
  };

  it('delivers once locally and once on every other instance', async () => {
    const a = instance(redis.redis.url);
    const b = instance(redis.redis.url);
    const seenA: unknown[] = [];
    const seenB: unknown[] = [];
    a.addEventListener('topic:x', (event) => seenA.push((event as CustomEvent).detail));
    b.addEventListener('topic:x', (event) => seenB.push((event as CustomEvent).detail));
    const sent: unknown[] = [];
    await whenLive(
      async () => {
        const detail = { n: sent.length };
        sent.push(detail);
        a.dispatchEvent(new CustomEvent('topic:x', { detail }));
        // Local delivery is synchronous, never through Redis.
        expect(seenA).toEqual(sent);
      },
      () => seenB.length > 0,
    );
    // B's own dispatch reaches A through Redis after any echo of A's dispatches would have,
    // so once it is here A has provably not received its own events a second time.
    b.dispatchEvent(new CustomEvent('topic:x', { detail: 'from b' }));
    await eventually(() => seenA.includes('from b'), "B's event on A");
    expect(seenA).toEqual([...sent, 'from b']);
    expect(seenB).toEqual([...sent.slice(sent.length - (seenB.length - 1)), 'from b']);
  });

  it('keeps delivering locally while Redis is unreachable, and stops a removed listener', async () => {
    const { proxy } = redis;
    const a = instance(proxy.proxied(redis.redis.url));
    const seen: unknown[] = [];
    const listener = (event: Event) => seen.push((event as CustomEvent).detail);
    a.addEventListener('topic:y', listener);
    const b = instance(redis.redis.url);
    await whenLive(
      async () => b.dispatchEvent(new CustomEvent('topic:y', { detail: 'probe' })),
      () => seen.length > 0,
    );
    seen.length = 0;
    proxy.cut();
    a.dispatchEvent(new CustomEvent('topic:y', { detail: 'during outage' }));
    expect(seen).toEqual(['during outage']);
    a.removeEventListener('topic:y', listener);
    a.dispatchEvent(new CustomEvent('topic:y', { detail: 'after removal' }));
    expect(seen).toEqual(['during outage']);
    proxy.restore();
  });
});
