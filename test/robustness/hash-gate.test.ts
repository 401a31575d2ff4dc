import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/env.js';
import { configureHashing, withHashSlot } from '../../src/modules/auth/passwords.js';
import { TEST_SECRET } from '../helpers/app.js';

/**
 * The one gate of password hashing (`withHashSlot`), sized by HASH_CONCURRENCY and
 * HASH_QUEUE_MAX. The tasks here are hashes the test finishes by hand, so what runs at once
 * is counted exactly; the servers' tests (limits-under-load) show the gate through the API.
 */
describe('the password hashing gate', () => {
  afterEach(() => configureHashing({}));

  it('runs HASH_CONCURRENCY hashes at once, queues HASH_QUEUE_MAX behind them and refuses the rest with RATE_LIMITED', async () => {
    const config = parseConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, HASH_CONCURRENCY: '3', HASH_QUEUE_MAX: '2' });
    configureHashing({ concurrency: config.HASH_CONCURRENCY, queueMax: config.HASH_QUEUE_MAX });
    let running = 0;
    let peak = 0;
    const finish: Array<() => void> = [];
    const hash = () =>
      new Promise<void>((resolve) => {
        running += 1;
        peak = Math.max(peak, running);
        finish.push(() => {
          running -= 1;
          resolve();
        });
      });
    const outcomes = Array.from({ length: 7 }, () =>
      withHashSlot(hash).then(
        () => 'hashed',
        (error: { extensions?: { code?: string } }) => error.extensions?.code,
      ),
    );
    expect(running).toBe(3);
    // Each finished hash hands its slot to the next in the queue.
    for (let done = 0; done < 5; done++) {
      while (finish.length === done) await Promise.resolve();
      finish[done]!();
    }
    expect(await Promise.all(outcomes)).toEqual(['hashed', 'hashed', 'hashed', 'hashed', 'hashed', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(peak).toBe(3);
  });

  it('refuses a HASH_CONCURRENCY that is not a positive whole number', () => {
    for (const value of ['0', '-1', '1.5', 'many']) {
      expect(() => parseConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, HASH_CONCURRENCY: value })).toThrow(/HASH_CONCURRENCY/);
    }
  });
});
