import { randomFillSync } from 'node:crypto';

// What the importer writes without a database at hand: `COPY … FROM STDIN` text and new ids. No
// pg here, so the message planner's worker thread loads only this.

/** `import_mapping` as the importer copies into it. */
export const MAPPING_COPY_COLUMNS = ['kind', 'source_id', 'target_id', 'fingerprint', 'imported_at', 'updated_at'] as const;

export type CopyValue = string | number | boolean | Date | null;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const NEEDS_ESCAPE = /[\\\n\r\t]/;

/**
 * Rows of `COPY … FROM STDIN` text format, written straight into one growing buffer:
 * concatenating a string of ten pieces per row left the garbage collector a tenth of the
 * import's CPU.
 */
export class CopyText {
  private buffer = Buffer.allocUnsafe(1 << 20);
  private size = 0;

  /** The text so far (a view, valid until the next write). */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.size);
  }

  /** A field that may hold anything: `\N` for null, backslash escapes for the rest. */
  value(value: CopyValue, last = false): void {
    if (value === null) this.plain('\\N', last);
    else if (value instanceof Date) this.plain(value.toISOString(), last);
    else if (typeof value !== 'string') this.plain(String(value), last);
    else this.text(value, last);
  }

  /** A text field, escaped where it needs to be. */
  text(value: string, last = false): void {
    this.plain(NEEDS_ESCAPE.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!) : value, last);
  }

  /** A field known to hold no backslash, tab or line break (ids, ISO times, hashes). */
  plain(value: string, last = false): void {
    // At most 3 bytes per UTF-16 unit, plus the separator.
    const room = value.length * 3 + 1;
    if (this.size + room > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.size + room));
      this.buffer.copy(grown, 0, 0, this.size);
      this.buffer = grown;
    }
    this.size += this.buffer.write(value, this.size);
    this.buffer[this.size++] = last ? 0x0a : 0x09;
  }

  row(values: ReadonlyArray<CopyValue>): void {
    for (let i = 0; i < values.length; i += 1) this.value(values[i]!, i === values.length - 1);
  }
}

/** PostgreSQL's binary COPY signature, flags and header extension length. */
const BINARY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1');
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix milliseconds. */
const POSTGRES_EPOCH_MS = 946_684_800_000;

/**
 * Rows of `COPY … FROM STDIN (FORMAT binary)`: PostgreSQL then parses no text into uuids and
 * timestamps, and nothing is escaped (the benchmark's PostgreSQL CPU went from 31–32 s to
 * 22–27 s with it). One COPY per buffer: `reset()` writes the header, `finish()` the trailer.
 */
export class CopyBinary {
  private buffer: Buffer;
  private size = 0;
  rows = 0;

  /** @param allocate where the memory comes from (shared memory, for text another thread sends) */
  constructor(
    initialBytes = 1 << 20,
    private readonly allocate: (bytes: number) => Buffer = Buffer.allocUnsafe,
  ) {
    this.buffer = allocate(initialBytes);
    this.reset();
  }

  get memory(): ArrayBufferLike {
    return this.buffer.buffer;
  }

  /** The rows so far (a view, valid until the next write). */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.size);
  }

  reset(): void {
    this.size = BINARY_HEADER.copy(this.buffer, 0);
    this.rows = 0;
  }

  /** Ends the COPY data; `bytes` is then complete. */
  finish(): void {
    this.reserve(2);
    this.size = this.buffer.writeInt16BE(-1, this.size);
  }

  row(fields: number): void {
    this.reserve(2);
    this.size = this.buffer.writeInt16BE(fields, this.size);
    this.rows += 1;
  }

  /** A uuid, as its 16 bytes. */
  uuid(bytes: Uint8Array): void {
    this.reserve(20);
    this.size = this.buffer.writeInt32BE(16, this.size);
    this.buffer.set(bytes, this.size);
    this.size += 16;
  }

  /** A new time-ordered uuid; returns where its 16 bytes are, for `bytesAt`. */
  newUuid(): number {
    this.reserve(20);
    this.size = this.buffer.writeInt32BE(16, this.size);
    const at = this.size;
    writeTimeOrderedUuid(this.buffer, at);
    this.size += 16;
    return at;
  }

  /** Bytes written earlier (they stay valid until the next write). */
  bytesAt(at: number, length: number): Buffer {
    return this.buffer.subarray(at, at + length);
  }

  /** A text (or varchar) field, as its UTF-8 bytes. */
  text(value: string): void {
    // At most 3 bytes per UTF-16 unit.
    this.reserve(4 + value.length * 3);
    const at = this.size;
    const length = this.buffer.write(value, at + 4);
    this.buffer.writeInt32BE(length, at);
    this.size = at + 4 + length;
  }

  /** A timestamptz: microseconds since 2000-01-01 UTC, 64 bits. */
  timestamp(ms: number): void {
    this.reserve(12);
    const micros = (ms - POSTGRES_EPOCH_MS) * 1000;
    const high = Math.floor(micros / 0x1_0000_0000);
    let at = this.buffer.writeInt32BE(8, this.size);
    at = this.buffer.writeInt32BE(high, at);
    this.size = this.buffer.writeUInt32BE(micros - high * 0x1_0000_0000, at);
  }

  private reserve(bytes: number): void {
    if (this.size + bytes <= this.buffer.length) return;
    const grown = this.allocate(Math.max(this.buffer.length * 2, this.size + bytes));
    this.buffer.copy(grown, 0, 0, this.size);
    this.buffer = grown;
  }
}

/** A uuid's 16 bytes. */
export const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replaceAll('-', ''), 'hex');

let lastMs = 0;
let sequence = 0;
// Random bits drawn 64 KiB at a time: one call per id cost a tenth of the import's CPU.
const pool = Buffer.alloc(65_536);
let poolOffset = pool.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The milliseconds of the next time-ordered id; sets `sequence`. */
function nextIdTime(): number {
  const ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    sequence = 0;
  } else {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
    }
  }
  return lastMs;
}

/** Where 8 fresh random bytes are in `pool`. */
function nextRandom(): number {
  if (poolOffset + 8 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += 8;
  return poolOffset - 8;
}

/**
 * A time-ordered UUID (version 7 layout: milliseconds, then a sequence, then random bits).
 * Bulk inserts of them append to the primary key's index instead of scattering over it, and
 * messages with equal timestamps keep the order they were imported in. Ids made on two threads
 * cannot collide: 62 of their bits are random.
 */
export function timeOrderedUuid(): string {
  const ms = nextIdTime();
  const at = nextRandom();
  // Hex digits from a table: no Buffer per id, only the string itself.
  const time = Math.floor(ms / 0x10000)
    .toString(16)
    .padStart(8, '0');
  const low = (ms % 0x10000).toString(16).padStart(4, '0');
  const p = pool;
  return `${time}-${low}-${HEX[0x70 | (sequence >> 8)]}${HEX[sequence & 0xff]}-${HEX[(p[at]! & 0x3f) | 0x80]}${HEX[p[at + 1]!]}-${HEX[p[at + 2]!]}${HEX[p[at + 3]!]}${HEX[p[at + 4]!]}${HEX[p[at + 5]!]}${HEX[p[at + 6]!]}${HEX[p[at + 7]!]}`;
}

/** `timeOrderedUuid`'s 16 bytes, written at `offset`. */
export function writeTimeOrderedUuid(into: Buffer, offset: number): void {
  const ms = nextIdTime();
  const at = nextRandom();
  into.writeUIntBE(ms, offset, 6);
  into[offset + 6] = 0x70 | (sequence >> 8);
  into[offset + 7] = sequence & 0xff;
  pool.copy(into, offset + 8, at, at + 8);
  into[offset + 8] = (into[offset + 8]! & 0x3f) | 0x80;
}
