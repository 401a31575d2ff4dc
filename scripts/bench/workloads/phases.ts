import type { BenchContext } from '../context.js';
import { sleep, type Measurement } from '../latency.js';

/** Runs `measure` once unmeasured for the warm-up (JIT, pools, caches), then for real. */
export async function warmedUp(context: BenchContext, measure: (seconds: number) => Promise<Measurement>): Promise<Measurement> {
  if (context.warmupSeconds > 0) await measure(context.warmupSeconds);
  const result = await measure(context.options.seconds);
  context.say(`  ${result.name}: ${result.perSecond.toFixed(1)}/s, p99 ${result.p99?.toFixed(2) ?? '–'} ms, errors ${result.errors}`);
  return result;
}

/**
 * Keeps running `step` from `workers` concurrent loops for `seconds`; each resolved step is one
 * operation. With `maxRate` (operations per second, all loops together) each loop paces itself.
 */
export async function closedLoop(workers: number, seconds: number, step: (worker: number) => Promise<void>, maxRate?: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  const pace = maxRate ? (workers / maxRate) * 1000 : 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (Date.now() < deadline) {
        const started = Date.now();
        await step(worker);
        if (pace > 0) await sleep(Math.min(pace - (Date.now() - started), deadline - Date.now()));
      }
    }),
  );
}
