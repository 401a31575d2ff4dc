import { NotNullConstraintViolationException } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type ORM } from '../src/db/db.js';
import { col, queryRow, queryRows, row, RowShapeError, run } from '../src/db/typed-sql.js';
import { createTestDatabase, withClient, type TestDatabase } from './helpers/database.js';

let db: TestDatabase;
let orm: ORM;
beforeAll(async () => {
  db = await createTestDatabase();
  await withClient(db.url, (client) => client.query('create table tx_probe (label text not null)'));
  orm = await initORM(db.url, 2);
});
afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

const labels = async () => (await withClient(db.url, (client) => client.query<{ label: string }>('select label from tx_probe'))).rows.map((r) => r.label);

describe('typed raw SQL', () => {
  const labelRow = row({ label: col.text });

  it("runs on the entity manager's transaction, with named parameters: rolled back with it, committed with it", async () => {
    await expect(
      orm.em.fork().transactional(async (em) => {
        await run(em, 'insert into tx_probe (label) values (:label)', { label: 'typed, rolled back' });
        expect(await queryRows(em, labelRow, `select label from tx_probe where label like :prefix || '%'`, { prefix: 'typed' })).toEqual([
          { label: 'typed, rolled back' },
        ]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await orm.em.fork().transactional(async (em) => {
      await run(em, 'insert into tx_probe (label) values (:label)', { label: 'typed, committed' });
    });
    const stored = await labels();
    expect(stored).not.toContain('typed, rolled back');
    expect(stored).toContain('typed, committed');
  });

  it('parses rows at the boundary: timestamps become dates, ints numbers, bigints strings, nulls stay null', async () => {
    const parse = row({ at: col.timestamp, count: col.int, big: col.bigint, missing: col.nullable(col.timestamp), flag: col.bool });
    const parsed = await queryRow(
      orm.em.fork(),
      parse,
      `select :at::timestamptz as at, 3::int as count, 9007199254740993::bigint as big, null::timestamptz as missing, true as flag`,
      { at: new Date('2026-01-02T03:04:05.678Z') },
    );
    expect(parsed).toEqual({ at: new Date('2026-01-02T03:04:05.678Z'), count: 3, big: '9007199254740993', missing: null, flag: true });
  });

  it('binds an array as one parameter, quotes included, and an empty one matches nothing', async () => {
    const em = orm.em.fork();
    const values = ['plain', 'with "quotes"', 'back\\slash', "it's"];
    const rows = await queryRows(em, labelRow, 'select unnest(:values::text[]) as label', { values });
    expect(rows.map((r) => r.label)).toEqual(values);
    expect(await queryRows(em, labelRow, `select 'x' as label where 'x' = any(:values::text[])`, { values: [] })).toEqual([]);
  });

  it('refuses a statement that names a parameter it was not given, before sending it', async () => {
    await expect(queryRows(orm.em.fork(), labelRow, 'select :lable::text as label', { label: 'x' })).rejects.toThrow(':lable has no value');
  });

  it('refuses a row that is not the declared shape', async () => {
    await expect(queryRows(orm.em.fork(), row({ label: col.int }), `select 'text' as label`)).rejects.toThrow(RowShapeError);
    // A column the statement does not return is no null, even where null is allowed.
    await expect(queryRows(orm.em.fork(), row({ absent: col.nullable(col.text) }), `select 'text' as label`)).rejects.toThrow(RowShapeError);
  });

  it('runs a statement outside a transaction as a named prepared statement on PostgreSQL (parsed and planned once per connection)', async () => {
    const prepared = row({ name: col.text });
    // The statement lists the session's prepared statements, itself among them once it is one.
    const names = await queryRows(orm.em.fork(), prepared, `select "name" from pg_prepared_statements where :always::boolean`, { always: true });
    const onPglite = !process.env.DATABASE_URL;
    expect(names.some((found) => found.name.startsWith('typed_sql_'))).toBe(!onPglite);
  });

  it("fails like the ORM's own statements, with its exception classes, inside a transaction or not", async () => {
    await expect(run(orm.em.fork(), 'insert into tx_probe (label) values (:label)', { label: null })).rejects.toBeInstanceOf(
      NotNullConstraintViolationException,
    );
    await expect(orm.em.fork().transactional((em) => run(em, 'insert into tx_probe (label) values (:label)', { label: null }))).rejects.toBeInstanceOf(
      NotNullConstraintViolationException,
    );
  });
});
