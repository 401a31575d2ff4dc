import type pg from 'pg';

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
  constructor(
    readonly client: pg.Client,
    readonly dryRun: boolean,
  ) {}

  query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.client.query<R>(text, values);
  }

  /** What earlier runs made of these source records. */
  async mappings(kind: string, sourceIds: string[]): Promise<Map<string, Mapped>> {
    if (sourceIds.length === 0) return new Map();
    const { rows } = await this.client.query<{ source_id: string; target_id: string; fingerprint: string }>(
      `select "source_id", "target_id", "fingerprint" from "import_mapping" where "kind" = $1 and "source_id" = any($2::text[])`,
      [kind, sourceIds],
    );
    return new Map(rows.map((row) => [row.source_id, { targetId: row.target_id, fingerprint: row.fingerprint }]));
  }

  /** Runs one batch's writes in its own transaction; in a dry run, runs nothing. */
  async batch(write: () => Promise<void>): Promise<void> {
    if (this.dryRun) return;
    await this.client.query('begin');
    try {
      await write();
      await this.client.query('commit');
    } catch (error) {
      await this.client.query('rollback');
      throw error;
    }
  }

  async saveMappings(kind: string, rows: MappingRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.query(
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
