import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initORM, sql, type ORM } from '../src/db/db.js';
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

describe('sql helper', () => {
  it("runs on the entity manager's transaction: rolled back with it, committed with it", async () => {
    await expect(
      orm.em.fork().transactional(async (em) => {
        await sql(em, 'insert into tx_probe (label) values (?)', ['rolled back']);
        // Seen inside the transaction, before it ends.
        expect(await sql<{ label: string }[]>(em, 'select label from tx_probe')).toEqual([{ label: 'rolled back' }]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await orm.em.fork().transactional(async (em) => {
      await sql(em, 'insert into tx_probe (label) values (?)', ['committed']);
    });
    expect(await labels()).toEqual(['committed']);
  });
});
