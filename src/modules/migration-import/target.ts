import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface Mapped {
  targetId: string;
  fingerprint: string;
}

export interface MappingRow extends Mapped {
  sourceId: string;
}

/**
 * The platform's database as the importer writes it: bulk statements over arrays (`unnest`),
 * one transaction per batch, nothing at all in a dry run.
 */
export class ImportTarget {
  /** The connection of the batch whose writes are running; the main one outside batches. */
  private readonly writing = new AsyncLocalStorage<pg.Client>();

  private readonly writer: pg.Client;
  /** Whether the database takes `COPY FROM STDIN` (the embedded one does not). */
  readonly canCopy: boolean;

  /**
   * @param client reads, reference data, and batches that must commit in order
   * @param options.writer a second connection for `parallel` batches, so PostgreSQL writes on two cores
   */
  constructor(
    readonly client: pg.Client,
    readonly dryRun: boolean,
    options: { writer?: pg.Client; copy?: boolean } = {},
  ) {
    this.writer = options.writer ?? client;
    this.canCopy = options.copy ?? true;
  }

  query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    return (this.writing.getStore() ?? this.client).query<R>(text, values);
  }

  /** Kinds that earlier runs left no mappings of: a first import need not look every batch up. */
  private readonly neverImported = new Map<string, boolean>();

  /** Session settings for bulk work; each batch still commits atomically with its mappings. */
  async prepare(): Promise<void> {
    // A crash may lose the last committed batches, never half of one: the mappings roll back with
    // their rows, and the next run imports those batches again.
    await this.client.query('set synchronous_commit = off');
    if (this.writer !== this.client) await this.writer.query('set synchronous_commit = off');
  }

  /** What earlier runs made of these source records. */
  async mappings(kind: string, sourceIds: string[]): Promise<Map<string, Mapped>> {
    if (sourceIds.length === 0) return new Map();
    let fresh = this.neverImported.get(kind);
    if (fresh === undefined) {
      const { rows } = await this.client.query<{ found: boolean }>(`select exists (select 1 from "import_mapping" where "kind" = $1) as "found"`, [kind]);
      fresh = !rows[0]!.found;
      this.neverImported.set(kind, fresh);
    }
    if (fresh) return new Map();
    const { rows } = await this.client.query<{ source_id: string; target_id: string; fingerprint: string }>(
      `select "source_id", "target_id", "fingerprint" from "import_mapping" where "kind" = $1 and "source_id" = any($2::text[])`,
      [kind, sourceIds],
    );
    return new Map(rows.map((row) => [row.source_id, { targetId: row.target_id, fingerprint: row.fingerprint }]));
  }

  /** The batch being written on each connection, if any. */
  private readonly tails = new Map<pg.Client, Promise<void>>();
  /** Which connection the next parallel batch goes to. */
  private nextWriter = 0;

  /**
   * Starts one batch's writes in their own transaction and returns without waiting for them, so
   * the next batch is read and planned while PostgreSQL writes this one. At most one batch is in
   * flight per connection: this waits for that connection's previous one first (and fails with its
   * error). A `parallel` batch (one that conflicts with no other: messages, each with a new id)
   * takes the two connections in turn; any other waits for every batch in flight, so such
   * batches commit in order. In a dry run, writes nothing.
   */
  async batch(write: () => Promise<void>, options: { parallel?: boolean } = {}): Promise<void> {
    if (this.dryRun) return;
    let client = this.client;
    if (options.parallel && this.writer !== this.client) {
      client = this.nextWriter === 0 ? this.client : this.writer;
      this.nextWriter = 1 - this.nextWriter;
      await this.tails.get(client);
    } else {
      await this.settle();
    }
    const tail = this.writing.run(client, () => this.transaction(client, write));
    tail.catch(() => {}); // seen by the next batch() or settle()
    this.tails.set(client, tail);
  }

  /** Waits until every batch in flight is committed (or fails with the first error). */
  async settle(): Promise<void> {
    const results = await Promise.allSettled(this.tails.values());
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async transaction(client: pg.Client, write: () => Promise<void>): Promise<void> {
    await client.query('begin');
    try {
      await write();
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  }

  /**
   * Appends rows that cannot conflict with any (new ids, source ids no mapping has) with `COPY`:
   * PostgreSQL parses no arrays and checks for no conflict, and the rows are written here as one
   * text, without pg's per-value array escaping.
   */
  async copy(table: string, columnNames: readonly string[], rows: ReadonlyArray<ReadonlyArray<CopyValue>>): Promise<void> {
    if (rows.length === 0) return;
    // Written straight into one buffer: concatenating a string of ten pieces per row left the
    // garbage collector a tenth of the import's CPU.
    let buffer = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (const row of rows) {
      for (let i = 0; i < row.length; i += 1) {
        const field = copyField(row[i]!);
        // At most 3 bytes per UTF-16 unit, plus the separator.
        if (size + field.length * 3 + 1 > buffer.length) {
          const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, size + field.length * 3 + 1));
          buffer.copy(grown, 0, 0, size);
          buffer = grown;
        }
        size += buffer.write(field, size);
        buffer[size++] = i === row.length - 1 ? 0x0a : 0x09;
      }
    }
    const client = this.writing.getStore() ?? this.client;
    const columnList = columnNames.map((name) => `"${name}"`).join(', ');
    await pipeline(Readable.from([buffer.subarray(0, size)]), client.query(copyFrom(`copy "${table}" (${columnList}) from stdin`)));
  }

  /** Mappings of source records no mapping had (see `copy`). */
  async copyNewMappings(kind: string, rows: MappingRow[]): Promise<void> {
    const now = new Date().toISOString();
    await this.copy(
      'import_mapping',
      ['kind', 'source_id', 'target_id', 'fingerprint', 'imported_at', 'updated_at'],
      rows.map((row) => [kind, row.sourceId, row.targetId, row.fingerprint, now, now]),
    );
  }

  async saveMappings(kind: string, rows: MappingRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.query(
      `insert into "import_mapping" ("kind", "source_id", "target_id", "fingerprint", "imported_at", "updated_at")
       select $1, s, t, f, now(), now() from unnest($2::text[], $3::uuid[], $4::text[]) as v(s, t, f)
       on conflict ("kind", "source_id") do update
         set "target_id" = excluded."target_id", "fingerprint" = excluded."fingerprint", "updated_at" = now()`,
      [kind, rows.map((r) => r.sourceId), rows.map((r) => r.targetId), rows.map((r) => r.fingerprint)],
    );
  }
}

export type CopyValue = string | number | boolean | Date | null;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One field of `COPY … FROM STDIN` text format: `\N` for null, backslash escapes for the rest. */
function copyField(value: CopyValue): string {
  if (value === null) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'string') return String(value);
  return /[\\\n\r\t]/.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!) : value;
}

/** Columns of a batch as arrays, one per column, for `unnest($1::type[], …)`. */
export function columns<T, K extends string>(rows: readonly T[], pick: Record<K, (row: T) => unknown>): unknown[] {
  return Object.values<(row: T) => unknown>(pick).map((get) => rows.map(get));
}

let lastMs = 0;
let sequence = 0;
// Random bits drawn 64 KiB at a time: one call per id cost a tenth of the import's CPU.
const pool = Buffer.alloc(65_536);
let poolOffset = pool.length;

/**
 * A time-ordered UUID (version 7 layout: milliseconds, then a sequence, then random bits).
 * Bulk inserts of them append to the primary key's index instead of scattering over it, and
 * messages with equal timestamps keep the order they were imported in.
 */
export function timeOrderedUuid(): string {
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    sequence = 0;
  } else {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
    }
    ms = lastMs;
  }
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
