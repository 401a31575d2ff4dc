/** Where an import says how far it got: a bar on a terminal, plain lines in a log. */
export interface Progress {
  start(phase: string, total: number, unit: string): void;
  /** `done` is absolute (rows so far, or bytes read for the chat files). */
  update(done: number): void;
  finish(): void;
}

export const silentProgress: Progress = { start() {}, update() {}, finish() {} };

const BAR_WIDTH = 30;

export function streamProgress(stream: NodeJS.WriteStream, now: () => number = Date.now): Progress {
  const tty = stream.isTTY === true;
  let phase = '';
  let total = 0;
  let unit = '';
  let done = 0;
  let startedAt = 0;
  let lastPrint = 0;
  const rate = () => {
    const seconds = (now() - startedAt) / 1000;
    return seconds > 0 ? Math.round(done / seconds) : 0;
  };
  const line = () => {
    const share = total > 0 ? Math.min(1, done / total) : 1;
    const percent = `${Math.floor(share * 100)}%`.padStart(4);
    return `${phase}: ${percent} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit} (${rate().toLocaleString('en-US')} ${unit}/s)`;
  };
  const print = (final: boolean) => {
    if (tty) {
      const share = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(share * BAR_WIDTH);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${line()}\x1b[K${final ? '\n' : ''}`);
    } else {
      stream.write(`${line()}${final ? ' done' : ''}\n`);
    }
  };
  return {
    start(name, size, unitName) {
      phase = name;
      total = size;
      unit = unitName;
      done = 0;
      startedAt = now();
      lastPrint = startedAt;
      if (tty) print(false);
    },
    update(value) {
      done = value;
      const t = now();
      // A terminal redraws often; a log gets a line every few seconds.
      if (t - lastPrint >= (tty ? 100 : 5_000)) {
        lastPrint = t;
        print(false);
      }
    },
    finish() {
      done = Math.max(done, total);
      print(true);
    },
  };
}
