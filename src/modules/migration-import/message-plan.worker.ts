import { parentPort, workerData } from 'node:worker_threads';
import { CopyBinary } from './copy-text.js';
import { type CopyTexts, MessagePlanner, type PlannerInput } from './message-plan.js';
import { PLAN_SLOTS, type PostedBatch } from './message-plan-thread.js';
import { jsonlTextBatches } from './mongo-export.js';

// The planner's thread: reads messages.jsonl, plans every message and posts the batches to the
// main thread, which writes them. Started by message-plan-thread.ts.

const port = parentPort!;
const input = workerData as PlannerInput;

const shared = (bytes: number) => Buffer.from(new SharedArrayBuffer(bytes));
// About 150 bytes per message and 130 per mapping: a batch fits without growing.
const slots: Array<CopyTexts | undefined> = Array.from({ length: PLAN_SLOTS }, () =>
  input.copyKind
    ? { messages: new CopyBinary(Math.max(1 << 16, input.batchSize * 256), shared), mappings: new CopyBinary(Math.max(1 << 16, input.batchSize * 160), shared) }
    : undefined,
);
/** The memory each slot had when it was last posted: the main thread keeps it by slot. */
const posted: Array<PostedBatch['memory']> = [];

// The main thread hands each slot back once its batch is written.
const free = Array.from({ length: PLAN_SLOTS }, (_, slot) => slot);
let wake: (() => void) | undefined;
port.on('message', (slot: number) => {
  free.push(slot);
  wake?.();
  wake = undefined;
});

async function freeSlot(): Promise<number> {
  while (free.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return free.shift()!;
}

const planner = new MessagePlanner(input);
for await (const { lines, texts } of jsonlTextBatches(input.messagesFile, input.batchSize)) {
  const slot = await freeSlot();
  const copy = slots[slot];
  planner.startBatch(copy);
  for (let i = 0; i < texts.length; i += 1) planner.plan(lines[i]!, texts[i]!);
  const batch: PostedBatch = { type: 'batch', slot, ...planner.takeBatch(), messageBytes: 0, mappingBytes: 0 };
  if (copy) {
    copy.messages.finish();
    copy.mappings.finish();
    batch.messageBytes = copy.messages.bytes.length;
    batch.mappingBytes = copy.mappings.bytes.length;
    const sent = posted[slot];
    if (sent?.messages !== copy.messages.memory || sent.mappings !== copy.mappings.memory) {
      batch.memory = { messages: copy.messages.memory as SharedArrayBuffer, mappings: copy.mappings.memory as SharedArrayBuffer };
      posted[slot] = batch.memory;
    }
  }
  port.postMessage(batch);
}
port.postMessage(planner.end());
