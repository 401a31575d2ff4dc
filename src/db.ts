import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MikroORM, PostgreSqlDriver, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { entities } from './entities.js';
import { migrationsList } from './migrations/index.js';

export type ORM = MikroORM;

/** The embedded server multiplexes connections onto one PGlite backend; more buys nothing. */
export const EMBEDDED_MAX_CONNECTIONS = 8;

export function ormOptions(clientUrl: string, poolMax = 10): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl,
    entities,
    extensions: [Migrator],
    migrations: {
      migrationsList,
      path: 'src/migrations',
      pathTs: 'src/migrations',
      emit: 'ts',
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      silent: true,
    },
    pool: { min: 0, max: poolMax },
    // Services load relations explicitly; lazy surprises would hide N+1 queries.
    forceUndefined: false,
    allowGlobalContext: false,
    debug: false,
    discovery: { warnWhenNoEntities: true },
  };
}

export async function initORM(clientUrl: string, poolMax?: number): Promise<ORM> {
  return MikroORM.init(ormOptions(clientUrl, poolMax));
}

export async function migrate(orm: ORM): Promise<void> {
  await orm.getMigrator().up();
}

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL compiled to WASM, served over the wire protocol so the app uses the same driver
 * as in production. `dataDir` undefined keeps everything in memory (tests).
 */
export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: EMBEDDED_MAX_CONNECTIONS });
  await server.start();
  return {
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

export const embeddedDataDir = (dataDir: string) => join(dataDir, 'pglite');

/**
 * Runs raw SQL on `em`'s transaction when it has one: the statements that must be atomic
 * (token consumption, rotation, claims) are written in SQL, and must not escape the transaction.
 */
export function sql<T extends object[]>(em: EntityManager, query: string, params: unknown[] = []): Promise<T> {
  return em.getConnection().execute<T>(query, params, 'all', em.getTransactionContext());
}
