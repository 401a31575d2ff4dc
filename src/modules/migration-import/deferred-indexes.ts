import type { ImportTarget } from './target.js';

/**
 * A first import writes a million messages into an empty table. Checking the two foreign keys
 * and maintaining the three secondary indexes row by row cost PostgreSQL about four times what
 * the rows themselves cost (measured on 300,000 imported messages: 4.1 s with them, 0.5 s with the
 * primary key alone, 0.4 s to build the three indexes afterwards), so a first import drops them
 * and builds them in one pass at the end. The primary key stays: re-runs upsert on it.
 *
 * What was dropped is written, in the same transaction as the drop, into the table's comment, so
 * it survives an interrupted run and stays next to the table it belongs to (`\d+ message` shows
 * it): the next run puts it back before it writes anything.
 */
const TABLE = 'message';

interface Deferred {
  importDeferred: string[];
  previousComment: string | null;
}

/**
 * Drops the message table's foreign keys and secondary indexes when the table is empty (a first
 * import); returns whether it did. Nothing in a dry run.
 */
export async function deferMessageIndexes(target: ImportTarget): Promise<boolean> {
  if (target.dryRun) return false;
  const { client } = target;
  await client.query('begin');
  try {
    await client.query(`lock table "${TABLE}" in access exclusive mode`);
    const { rows: busy } = await client.query(`select 1 from "${TABLE}" limit 1`);
    const {
      rows: [comment],
    } = await client.query<{ text: string | null }>(`select obj_description($1::regclass, 'pg_class') as "text"`, [TABLE]);
    if (busy.length > 0 || deferredOf(comment!.text)) {
      await client.query('rollback');
      return false;
    }
    const { rows: foreignKeys } = await client.query<{ name: string; definition: string }>(
      `select "conname" as "name", pg_get_constraintdef("oid") as "definition" from pg_constraint where "conrelid" = $1::regclass and "contype" = 'f' order by "conname"`,
      [TABLE],
    );
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `select c."relname" as "name", pg_get_indexdef(i."indexrelid") as "definition"
       from pg_index i join pg_class c on c."oid" = i."indexrelid"
       where i."indrelid" = $1::regclass and not i."indisunique" and not i."indisprimary" order by c."relname"`,
      [TABLE],
    );
    // Indexes first: the foreign keys' validation at the end then runs on a complete table.
    const restore: Deferred = {
      importDeferred: [
        ...indexes.map((index) => index.definition),
        ...foreignKeys.map((fk) => `alter table "${TABLE}" add constraint ${quoteIdent(fk.name)} ${fk.definition}`),
      ],
      previousComment: comment!.text,
    };
    for (const fk of foreignKeys) await client.query(`alter table "${TABLE}" drop constraint ${quoteIdent(fk.name)}`);
    for (const index of indexes) await client.query(`drop index ${quoteIdent(index.name)}`);
    await client.query(`comment on table "${TABLE}" is ${quoteLiteral(JSON.stringify(restore))}`);
    await client.query('commit');
    return true;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/**
 * Builds what `deferMessageIndexes` dropped, in one transaction: at the end of the chat import,
 * and at the start of every run, in case an earlier one was interrupted. Nothing in a dry run.
 */
export async function restoreDeferredIndexes(target: ImportTarget): Promise<void> {
  if (target.dryRun) return;
  const { client } = target;
  const {
    rows: [comment],
  } = await client.query<{ text: string | null }>(`select obj_description($1::regclass, 'pg_class') as "text"`, [TABLE]);
  if (!deferredOf(comment!.text)) return;
  await client.query('begin');
  try {
    await client.query(`lock table "${TABLE}" in access exclusive mode`);
    const {
      rows: [locked],
    } = await client.query<{ text: string | null }>(`select obj_description($1::regclass, 'pg_class') as "text"`, [TABLE]);
    const deferred = deferredOf(locked!.text);
    if (deferred) {
      // Sorting a million keys in memory instead of on disk.
      await client.query(`set local maintenance_work_mem = '256MB'`);
      for (const statement of deferred.importDeferred) await client.query(statement);
      await client.query(`comment on table "${TABLE}" is ${deferred.previousComment === null ? 'null' : quoteLiteral(deferred.previousComment)}`);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

function deferredOf(comment: string | null): Deferred | null {
  if (!comment?.startsWith('{')) return null;
  try {
    const parsed = JSON.parse(comment) as Partial<Deferred>;
    return Array.isArray(parsed.importDeferred) ? { importDeferred: parsed.importDeferred, previousComment: parsed.previousComment ?? null } : null;
  } catch {
    return null;
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;
