import { setTimeout as delay } from 'node:timers/promises';
import { DeadlockException } from '@mikro-orm/core';

/** Attempts before a conflict reaches the caller; each one is a fresh transaction. */
const MAX_ATTEMPTS = 6;

/**
 * Runs `transaction` again when PostgreSQL aborted it to resolve a conflict (40001
 * serialization failure, 40P01 deadlock; MikroORM maps both to DeadlockException). The aborted
 * attempt was rolled back, so running the same work again is safe; a small random pause keeps
 * the two sides of a deadlock from colliding again at once.
 */
export async function retryOnConflict<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transaction();
    } catch (error) {
      if (!(error instanceof DeadlockException) || attempt >= MAX_ATTEMPTS) throw error;
      await delay(Math.random() * 10 * attempt);
    }
  }
}
