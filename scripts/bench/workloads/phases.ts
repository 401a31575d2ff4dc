import type { BenchContext } from '../context.js';
import type { ServerProcess } from '../processes.js';
import { sleep, type Measurement } from '../latency.js';

/**
 * Runs `measure` once unmeasured for the warm-up (JIT, pools, caches), then for real, and
 * charges the server process's CPU time over the measured phase to its operations: on two
 * cores the load generator may be what saturates, and CPU per operation shows the server's cost anyway.
 */
export async function warmedUp(context: BenchContext, measure: (seconds: number) => Promise<Measurement>, server?: ServerProcess): Promise<Measurement> {
  if (context.warmupSeconds > 0) await measure(context.warmupSeconds);
  const result = server ? await withServerCpu(server, () => measure(context.options.seconds)) : await measure(context.options.seconds);
  context.say(
    `  ${result.name}: ${result.perSecond.toFixed(1)}/s, p99 ${result.p99?.toFixed(2) ?? '–'} ms, errors ${result.errors}` +
      (result.serverCpuMsPerOp !== undefined
        ? `, server ${result.serverCpuMsPerOp.toFixed(3)} ms CPU/op at ${result.serverCpuPercent?.toFixed(0)} % of a core`
        : ''),
  );
  return result;
}

/** `measure`, with the server's CPU time per operation over it. */
export async function withServerCpu(server: ServerProcess, measure: () => Promise<Measurement>): Promise<Measurement> {
  const before = await server.stats();
  const result = await measure();
  const cpuMs = (await server.stats()).cpuMs - before.cpuMs;
  return { ...result, serverCpuMsPerOp: result.ops > 0 ? cpuMs / result.ops : undefined, serverCpuPercent: (cpuMs / (result.seconds * 1000)) * 100 };
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
