import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { initORM, migrate, startEmbeddedPostgres } from '../../src/db/db.js';
import { seedReferenceData } from '../../src/db/seeders/reference-data.js';

export interface TestDatabase {
  url: string;
  /** The server's own database, for tests that stop or inspect the server. */
  kind: 'postgres' | 'embedded';
  drop(): Promise<void>;
}

/**
 * A fresh, migrated and seeded database: a new database on the server of DATABASE_URL when it
 * is set, otherwise an in-memory embedded PostgreSQL. Dropped by `drop()`.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const database = await createEmptyTestDatabase();
  const orm = await initORM(database.url, 2);
  try {
    await migrate(orm);
    await seedReferenceData(orm.em.fork());
  } finally {
    await orm.close(true);
  }
  return database;
}

/** Like createTestDatabase, without migrating or seeding: for tests of the migrations themselves. */
export async function createEmptyTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  let database: TestDatabase;
  if (serverUrl) {
    const name = `forum_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(serverUrl, `create database "${name}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    database = {
      url: url.toString(),
      kind: 'postgres',
      drop: () => adminQuery(serverUrl, `drop database if exists "${name}" with (force)`),
    };
  } else {
    const embedded = await startEmbeddedPostgres();
    database = { url: embedded.url, kind: 'embedded', drop: () => embedded.stop() };
  }
  return database;
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Direct SQL against a test database, for arranging states the API cannot reach (expiry). */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Runs `fn` while a connection of its own holds `table` in access exclusive mode, so no other
 * statement can read or write it until `fn` is done; `fn` gets that connection.
 */
export function whileTableLocked<T>(url: string, table: string, fn: (blocker: pg.Client) => Promise<T>): Promise<T> {
  return withClient(url, async (blocker) => {
    await blocker.query('begin');
    await blocker.query(`lock table "${table}" in access exclusive mode`);
    try {
      return await fn(blocker);
    } finally {
      await blocker.query('rollback');
    }
  });
}

/** Waits until at least `count` connections of `client`'s database wait for a row or table lock. */
export async function untilLockWaiters(client: pg.Client, count: number): Promise<void> {
  const waiting = async () =>
    (await client.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`))
      .rows[0]!.n;
  while ((await waiting()) < count) await new Promise((resolve) => setImmediate(resolve));
}
