import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from './logger.js';

/**
 * Gives memory back to the system when the server is idle.
 *
 * V8 grows the young generation to its maximum while modules load and under load, and its own
 * memory reducer shrinks the old generation only: a server that went quiet keeps ~25 MiB it no
 * longer uses (measured: 140 MiB idle RSS → 113 MiB after one memory-reducing collection). V8
 * shrinks the young generation only in a collection made to reduce the footprint, which the
 * `gc` extension's `last-resort` flavour asks for. Done once after start-up and then whenever the
 * event loop has been idle for a whole interval after real work, so it never competes with
 * traffic (a full collection of this heap takes tens of milliseconds).
 */
export interface MemoryReducer {
  stop(): void;
}

/** Event-loop utilisation below which an interval counts as idle. */
const IDLE_UTILISATION = 0.01;
/** Heap growth since the last reduction worth a collection; less is noise from timers. */
const WORTH_REDUCING_BYTES = 8 * 1024 * 1024;

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** The `gc` function without `--expose-gc` on the command line, so every way of starting gets it. */
function gcFunction(): GcFunction | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as GcFunction) : null;
  } catch {
    return null;
  }
}

export function startMemoryReducer(logger: Logger, intervalMs = 15_000): MemoryReducer {
  const gc = gcFunction();
  if (!gc) {
    logger.debug('the gc extension is unavailable; idle memory is left to V8');
    return { stop() {} };
  }
  let heapAfterLastReduction = 0;
  const reduce = () => {
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    heapAfterLastReduction = process.memoryUsage().heapTotal;
  };
  reduce();
  let previous = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const current = performance.eventLoopUtilization();
    const idle = performance.eventLoopUtilization(current, previous).utilization < IDLE_UTILISATION;
    previous = current;
    if (idle && process.memoryUsage().heapTotal - heapAfterLastReduction > WORTH_REDUCING_BYTES) reduce();
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
