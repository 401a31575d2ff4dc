/**
 * The suite's one notion of time. Tests wait for events, never for the clock: `eventually`
 * polls a condition, `withTimeout` bounds a promise, `whenLive` probes a subscription until it
 * delivers. `sleep` is only for tests where a real delay is the point (token expiry, windows).
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with `what` in the message if `promise` has not settled within `ms`. */
export const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

/**
 * Polls `check` until it returns a value other than `false`/`undefined`/`null`, and returns it;
 * fails with `what` after `timeoutMs`.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 5_000,
  intervalMs = 10,
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== false && value !== null && value !== undefined) return value as Exclude<T, false | null | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Sends probes until a subscription shows it is live (never a fixed sleep): `probe` makes
 * something the subscription will deliver, `live` says whether anything arrived yet. Returns
 * the number of probes sent, so callers can skip that many deliveries.
 */
export async function whenLive(probe: () => Promise<unknown>, live: () => boolean, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let probes = 1; Date.now() < deadline; probes++) {
    await probe();
    const waitUntil = Math.min(deadline, Date.now() + 250);
    while (Date.now() < waitUntil) {
      if (live()) return probes;
      await sleep(10);
    }
  }
  throw new Error(`the subscription did not become live within ${timeoutMs} ms`);
}
