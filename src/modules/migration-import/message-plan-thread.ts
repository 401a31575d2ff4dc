import { Worker } from 'node:worker_threads';
import type { PlannedBatch, PlanEnd, PlannerInput } from './message-plan.js';

/**
 * Batches in the pipeline at once: ready for the main thread (2), being written on its two
 * connections (2), being planned (1). Each owns a slot of shared memory for its COPY data, handed
 * back when written: the planner never reads further ahead, and no memory is allocated per batch
 * (memory moved between threads made the main thread's collector run a full collection every
 * second or two: 3 CPU-s in a million messages).
 */
export const PLAN_SLOTS = 5;

/** A batch as the planner's thread posts it. */
export interface PostedBatch extends PlannedBatch {
  type: 'batch';
  slot: number;
  /** Lengths of the COPY data in the slot's memory (with `copyKind`). */
  messageBytes: number;
  mappingBytes: number;
  /** The slot's memory, sent when it is first used or has grown. */
  memory?: { messages: SharedArrayBuffer; mappings: SharedArrayBuffer };
}

/** A planned batch, for the main thread to write. */
export interface PlanBatch extends PlannedBatch {
  /** With `copyKind`: the binary COPY data of the messages and of their mappings, in shared memory. */
  copy?: { messages: Buffer; mappings: Buffer };
  /** Gives the batch's memory back to the planner: call it once its COPY has finished. */
  release(): void;
}

/**
 * Plans messages.jsonl on a worker thread: JSON parsing, the fingerprint of every message and the
 * COPY data (a first import) cost the importer more CPU than anything else, and on one thread
 * they could not overlap with the main thread's writes. Yields the batches in file order, then
 * returns what the planner gathered over the whole file.
 */
export async function* planMessagesOnThread(input: PlannerInput): AsyncGenerator<PlanBatch, PlanEnd> {
  const worker = startPlanner(input);
  const received: Array<PostedBatch | PlanEnd> = [];
  const memory = new Map<number, { messages: SharedArrayBuffer; mappings: SharedArrayBuffer }>();
  let failure: Error | undefined;
  let notify: (() => void) | undefined;
  const wakeUp = () => {
    notify?.();
    notify = undefined;
  };
  worker.on('message', (message: PostedBatch | PlanEnd) => {
    received.push(message);
    wakeUp();
  });
  worker.on('error', (error) => {
    failure = error;
    wakeUp();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`The message planner's thread stopped (exit code ${code}) before the end of the file.`);
    wakeUp();
  });
  try {
    for (;;) {
      const message = received.shift();
      if (!message) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (notify = resolve));
        continue;
      }
      if (message.type === 'end') return message;
      const { slot, messageBytes, mappingBytes, documents, entries, rows, copiedRows } = message;
      if (message.memory) memory.set(slot, message.memory);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        worker.postMessage(slot);
      };
      const shared = memory.get(slot);
      const copy =
        copiedRows > 0 && shared
          ? { messages: Buffer.from(shared.messages, 0, messageBytes), mappings: Buffer.from(shared.mappings, 0, mappingBytes) }
          : undefined;
      // Rows were copied out of the message: the slot is free at once.
      if (!copy) release();
      yield { documents, entries, rows, copiedRows, ...(copy ? { copy } : {}), release };
    }
  } finally {
    worker.removeAllListeners();
    await worker.terminate();
  }
}

function startPlanner(input: PlannerInput): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./message-plan.worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  // A worker refuses V8 and process-wide options (`--max-old-space-size`, `--trace-gc`), even
  // inherited: it gets only the process's module loaders. From the TypeScript sources the worker
  // is a .ts file: under tsx those loaders include tsx's; a process started by vitest has none,
  // so the worker gets tsx's. Compiled (dist/), it is plain JavaScript.
  const loaders = moduleLoaderOptions(process.execArgv);
  if (fromSource && !loaders.some((arg) => arg.includes('tsx'))) loaders.push('--import', 'tsx');
  return new Worker(url, { workerData: input, execArgv: loaders });
}

const LOADER_OPTIONS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

function moduleLoaderOptions(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i += 1) {
    const arg = execArgv[i]!;
    if (LOADER_OPTIONS.has(arg) && i + 1 < execArgv.length) kept.push(arg, execArgv[++i]!);
    else if (LOADER_OPTIONS.has(arg.split('=')[0]!)) kept.push(arg);
  }
  return kept;
}
