import { availableParallelism } from 'node:os';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { isDjangoPbkdf2Hash, isUnusablePasswordHash, verifyDjangoPbkdf2 } from './django-pbkdf2.js';
import { rateLimited } from '../../shared/errors.js';

// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane. @node-rs/argon2 hashes on
// libuv's thread pool, so the event loop keeps serving while a login hashes.
const ARGON2ID: Algorithm.Argon2id = 2;
const OPTIONS: Options = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** libuv's thread pool size unless UV_THREADPOOL_SIZE says otherwise; hashes run on it. */
const DEFAULT_THREAD_POOL_SIZE = 4;

/**
 * Hashes that run at once, unless HASH_CONCURRENCY says otherwise: one fewer than the machine's
 * cores (at least one), and one fewer than the pool's threads. A hash keeps a pool thread at
 * full CPU for tens of milliseconds; with a hash on every core, a login storm would leave the
 * event loop a sliver of CPU and every other request would wait behind it (`npm run bench`,
 * W2). Waiting hashes queue here instead, where they hold no pool thread, so file and DNS work
 * never waits behind them.
 */
export const DEFAULT_HASH_CONCURRENCY = Math.max(1, Math.min(availableParallelism() - 1, DEFAULT_THREAD_POOL_SIZE - 1));

let concurrency = DEFAULT_HASH_CONCURRENCY;

/**
 * Hashes that may wait for a slot. A hash takes about 10 ms of a thread (`npm run bench`, W2:
 * ~100 verifications a second on one thread), so 100 waiting per thread is about a second of
 * work; beyond it a caller gets RATE_LIMITED at once instead of queueing without end (an
 * anonymous flood of `login`/`resetPassword` would otherwise delay every sign-in).
 */
let maxWaiting = 100 * concurrency;

/** Sizes the gate from HASH_CONCURRENCY and HASH_QUEUE_MAX (unset: the defaults above). */
export function configureHashing(settings: { concurrency?: number | undefined; queueMax?: number | undefined }): void {
  concurrency = settings.concurrency ?? DEFAULT_HASH_CONCURRENCY;
  maxWaiting = settings.queueMax ?? 100 * concurrency;
}

let running = 0;
const waiting: Array<() => void> = [];

/**
 * The one gate every password hash or verification goes through, whatever its kind: at most
 * `concurrency` at once, a bounded queue behind them, RATE_LIMITED beyond it.
 */
export async function withHashSlot<T>(task: () => Promise<T>): Promise<T> {
  if (running < concurrency) running += 1;
  else if (waiting.length >= maxWaiting) throw rateLimited(1);
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the finishing hash hands its slot over
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

export const hashPassword = (password: string): Promise<string> => withHashSlot(() => hash(password, OPTIONS));

let dummyHash: Promise<string> | undefined;

/**
 * Verifies a password; with no stored hash it verifies against a dummy one, so an unknown
 * email costs the same time as a wrong password.
 */
export async function verifyPassword(storedHash: string | null | undefined, password: string): Promise<boolean> {
  if (!storedHash || isUnusablePasswordHash(storedHash)) {
    dummyHash ??= hashPassword('dummy password for timing equality');
    const dummy = await dummyHash;
    await withHashSlot(() => verify(dummy, password));
    return false;
  }
  // Hashes imported from the Django original verify as Django does; login then rehashes them.
  if (isDjangoPbkdf2Hash(storedHash)) return withHashSlot(() => verifyDjangoPbkdf2(storedHash, password));
  return withHashSlot(async () => {
    try {
      return await verify(storedHash, password);
    } catch {
      return false; // a malformed stored hash matches nothing
    }
  });
}
