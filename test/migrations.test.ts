import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { initORM, migrate } from '../src/db/db.js';
import { migrationsList } from '../src/db/migrations/index.js';
import { seedReferenceData } from '../src/db/seeders/reference-data.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createEmptyTestDatabase, createTestDatabase, withClient, type TestDatabase } from './helpers/database.js';

const MIKRO_ORM_6_THROUGH_CHAT = readFileSync(new URL('./fixtures/mikro-orm-6-through-chat.sql', import.meta.url), 'utf8');

let db: TestDatabase | undefined;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.stop();
  await db?.drop();
  t = undefined;
  db = undefined;
});

describe('migrations', () => {
  it('migrates a database that MikroORM 6 migrated forward with no manual step, keeping its history', async () => {
    db = await createEmptyTestDatabase();
    await withClient(db.url, (client) => client.query(MIKRO_ORM_6_THROUGH_CHAT));

    const orm = await initORM(db.url, 1);
    try {
      // Everything after the Chat migration, which the MikroORM 6 dump stops at.
      expect((await orm.migrator.getPending()).map((m) => m.name)).toEqual(migrationsList.slice(3).map((m) => m.name));
      await migrate(orm);
      expect(await orm.migrator.getPending()).toEqual([]);
      await seedReferenceData(orm.em.fork());
    } finally {
      await orm.close(true);
    }

    const { rows: history } = await withClient(db.url, (client) =>
      client.query<{ id: number; name: string }>('select id, name from mikro_orm_migrations order by id'),
    );
    // The three rows MikroORM 6 wrote are kept as they were; only the pending ones are added.
    expect(history).toEqual(migrationsList.map((m, i) => ({ id: i + 1, name: m.name })));
    const { rows: indexes } = await withClient(db.url, (client) =>
      client.query<{ indexname: string }>(`select indexname from pg_indexes where indexdef ilike '%gin_trgm_ops%'`),
    );
    expect(indexes.length).toBeGreaterThan(0);

    // The server runs on it.
    t = await startTestApp({ db });
    const result = await t.gql<{ industries: { id: string }[] }>('{ industries { id } }');
    expect(result.data?.industries.length).toBeGreaterThanOrEqual(20);
  });

  it('leaves nothing for the schema diff: the entities match what the migrations build', async () => {
    db = await createTestDatabase();
    const orm = await initORM(db.url, 1);
    try {
      // What `npm run migration:create` would write; MikroORM 7 changed the foreign-key defaults.
      expect(await orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe('');
    } finally {
      await orm.close(true);
    }
  });
});
