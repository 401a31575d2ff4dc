import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyText, type CopyValue, MAPPING_COPY_COLUMNS } from './copy-text.js';

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
  private readonly firstImports = new Map<string, boolean>();

  /** Session settings for bulk work; each batch still commits atomically with its mappings. */
  async prepare(): Promise<void> {
    // A crash may lose the last committed batches, never half of one: the mappings roll back with
    // their rows, and the next run imports those batches again.
    await this.client.query('set synchronous_commit = off');
    if (this.writer !== this.client) await this.writer.query('set synchronous_commit = off');
  }

  /** Whether no earlier run left a mapping of this kind (a first import of it). */
  async neverImported(kind: string): Promise<boolean> {
    let fresh = this.firstImports.get(kind);
    if (fresh === undefined) {
      const { rows } = await this.client.query<{ found: boolean }>(`select exists (select 1 from "import_mapping" where "kind" = $1) as "found"`, [kind]);
      fresh = !rows[0]!.found;
      this.firstImports.set(kind, fresh);
    }
    return fresh;
  }

  /** What earlier runs made of these source records. */
  async mappings(kind: string, sourceIds: string[]): Promise<Map<string, Mapped>> {
    if (sourceIds.length === 0 || (await this.neverImported(kind))) return new Map();
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
    const text = new CopyText();
    for (const row of rows) text.row(row);
    await this.copyData(table, columnNames, text.bytes, 'text');
  }

  /** Rows already written as `COPY` data (by the message planner's thread: `binary`). */
  async copyData(table: string, columnNames: readonly string[], data: Uint8Array, format: 'text' | 'binary'): Promise<void> {
    if (data.length === 0) return;
    const client = this.writing.getStore() ?? this.client;
    const columnList = columnNames.map((name) => `"${name}"`).join(', ');
    await pipeline(Readable.from([data]), client.query(copyFrom(`copy "${table}" (${columnList}) from stdin with (format ${format})`)));
  }

  /** Mappings of source records no mapping had (see `copy`). */
  async copyNewMappings(kind: string, rows: MappingRow[]): Promise<void> {
    const now = new Date().toISOString();
    await this.copy(
      'import_mapping',
      MAPPING_COPY_COLUMNS,
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

/** Columns of a batch as arrays, one per column, for `unnest($1::type[], …)`. */
export function columns<T, K extends string>(rows: readonly T[], pick: Record<K, (row: T) => unknown>): unknown[] {
  return Object.values<(row: T) => unknown>(pick).map((get) => rows.map(get));
}
