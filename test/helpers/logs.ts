import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

export interface CapturedLogs {
  /** Pass as `buildOptions.logger` (or to `buildApp`). */
  logger: Logger;
  /** Every line written so far (JSON, one per entry). */
  lines: string[];
  /** All lines joined, for `toContain` checks. */
  text(): string;
}

/** A real logger whose output the test reads back instead of stdout. */
export function captureLogs(level = 'info'): CapturedLogs {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger(level, sink), lines, text: () => lines.join('') };
}
