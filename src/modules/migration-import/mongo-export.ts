import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Lines of a mongoexport file (one JSON document each), in batches; never the whole file in memory. */
export async function* jsonlBatches(path: string, batchSize: number): AsyncGenerator<Array<{ line: number; doc: unknown }>> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let batch: Array<{ line: number; doc: unknown }> = [];
  let number = 0;
  for await (const text of lines) {
    number += 1;
    if (!text.trim()) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    batch.push({ line: number, doc });
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Counts the documents of a file for the progress bar, reading it in chunks. */
export async function countLines(path: string): Promise<number> {
  let count = 0;
  let last = 10;
  for await (const chunk of createReadStream(path)) {
    const buffer = chunk as Buffer;
    for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) count += 1;
    last = buffer[buffer.length - 1] ?? last;
  }
  return last === 10 ? count : count + 1;
}
